"""Yardsticks and scores: each is exact on a series built so that it must be."""

import numpy as np
import pytest

from tasks.series.baselines import LinearAR, mae, mase_scale, naive, rmse, scores, seasonal_naive
from tasks.series.windows import Scaler, make_windows, roll_forward


def test_naive_repeats_the_last_value_of_the_target_column():
    inputs = np.arange(12, dtype=float).reshape(2, 3, 2)  # (N, W, C)
    np.testing.assert_array_equal(naive(inputs, 2, col=1), [[5, 5], [11, 11]])


def test_seasonal_naive_is_exact_on_a_periodic_series():
    period = 5
    values = np.tile(np.arange(period, dtype=float), 10)[:, None]
    w = make_windows(values, window=7, horizon=12, lo=0, hi=len(values))
    np.testing.assert_array_equal(seasonal_naive(w.inputs, 12, 0, period), w.targets[..., 0])


def test_seasonal_naive_needs_a_season_in_the_window():
    with pytest.raises(ValueError, match="window of at least one season"):
        seasonal_naive(np.zeros((1, 3, 1)), 2, 0, 4)


@pytest.mark.parametrize("relative", [True, False])
def test_linear_ar_recursive_and_direct_are_exact_on_a_linear_recurrence(relative):
    # x_t = 1.6 x_{t-1} - 0.8 x_{t-2}: a damped oscillation that a 2-lag linear model reproduces
    values = np.zeros((120, 1))
    values[:2, 0] = [1.0, 0.5]
    for t in range(2, len(values)):
        values[t] = 1.6 * values[t - 1] - 0.8 * values[t - 2]
    values += 3.0  # a level: x_t = 1.6 x_{t-1} - 0.8 x_{t-2} + 0.6, so the intercept matters
    train = make_windows(values[:80], 4, 6, 0, 80)
    test = make_windows(values, 4, 6, 80, 120)
    scaler = Scaler.fit(train.inputs, relative)
    one = LinearAR.fit(train.inputs, train.targets[:, :1], scaler, [0])
    direct = LinearAR.fit(train.inputs, train.targets, scaler, [0])
    recursive = roll_forward(one.next_values, test.inputs, 6)
    assert recursive.shape == (len(test), 6, 1)
    assert direct.predict(test.inputs).shape == (len(test), 6, 1)
    np.testing.assert_allclose(recursive, test.targets, atol=1e-6)
    np.testing.assert_allclose(direct.predict(test.inputs), test.targets, atol=1e-6)


def test_scores():
    forecast, truth = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 6.0])
    assert rmse(forecast, truth) == pytest.approx(np.sqrt(13 / 3))
    assert mae(forecast, truth) == pytest.approx(5 / 3)
    assert mase_scale(np.array([0.0, 1.0, 3.0, 6.0]), 1) == pytest.approx(2.0)
    assert mase_scale(np.array([0.0, 1.0, 3.0, 6.0]), 2) == pytest.approx(4.0)
    assert scores(forecast, truth, 2.0)["mase"] == pytest.approx(5 / 6)
