"""The statsmodels yardsticks (tasks/series/classical.py): their forecasts from every origin
are statsmodels' own forecasts from the series up to that origin, and nothing they choose
depends on the part of the series after the training part."""

import numpy as np
import pytest

from tasks.series import classical
from tasks.series.classical import (
    SARIMAX,
    ExponentialSmoothing,
    HoltWinters,
    SeasonalARIMA,
    classical_forecasts,
    fourier,
    quiet,
)
from tasks.series.data import load_macro, make_sines

K = 6


def macro():
    return load_macro().values[:, 0], 4  # real GDP, quarterly: positive, a season of 4


def sines():
    return make_sines().values[:, 0], 25  # a long season: Fourier terms; negative values


def origins(y):
    return np.array([int(0.7 * len(y)) + 3, len(y) - 2 * K, len(y) - K])


@pytest.mark.parametrize("data", [macro, sines])
def test_holt_winters_forecasts_are_statsmodels_own_from_each_origin(data):
    y, period = data()
    train_end = int(0.7 * len(y))
    model = HoltWinters.choose(y[:train_end], period, quick=False)
    p = model.params
    ours = model.forecasts(y, origins(y), K)
    for row, e in enumerate(origins(y)):
        with quiet():
            theirs = (
                ExponentialSmoothing(
                    y[:e],
                    trend="add",
                    damped_trend=model.damped,
                    seasonal=model.seasonal,
                    seasonal_periods=period,
                    initialization_method="known",
                    initial_level=p["initial_level"],
                    initial_trend=p["initial_trend"],
                    initial_seasonal=p["initial_seasons"],
                )
                .fit(
                    smoothing_level=p["smoothing_level"],
                    smoothing_trend=p["smoothing_trend"],
                    smoothing_seasonal=p["smoothing_seasonal"],
                    damping_trend=p["damping_trend"] if model.damped else None,
                    optimized=False,
                )
                .forecast(K)
            )
        np.testing.assert_allclose(ours[row], theirs, rtol=1e-9)


@pytest.mark.parametrize("data", [macro, sines])
def test_seasonal_arima_forecasts_are_statsmodels_own_from_each_origin(data):
    y, period = data()
    model = SeasonalARIMA.choose(y[: int(0.7 * len(y))], period, quick=True)
    assert model.harmonics == (period > 12)
    ours = model.forecasts(y, origins(y), K)
    for row, e in enumerate(origins(y)):
        exog = fourier(e + K, period) if model.harmonics else None
        fitted = SARIMAX(
            y[:e],
            exog=None if exog is None else exog[:e],
            order=model.order,
            seasonal_order=model.seasonal_order,
            trend="t",
        )
        with quiet():
            theirs = fitted.filter(model.params).forecast(
                K, exog=None if exog is None else exog[e:]
            )
        np.testing.assert_allclose(ours[row], theirs, rtol=1e-9)


def test_nothing_is_chosen_by_looking_past_the_training_part(monkeypatch):
    monkeypatch.setattr(classical, "GRID", {"p": (0, 1), "q": (0,), "P": (0,), "Q": (0, 1)})
    y, period = macro()
    train_end = int(0.6 * len(y))
    starts = origins(y)
    changed = y.copy()
    changed[train_end:] *= np.linspace(1, 3, len(y) - train_end)  # another future entirely
    first, chosen = classical_forecasts(y, train_end, starts, K, period, "full")
    second, chosen_again = classical_forecasts(changed, train_end, starts, K, period, "full")
    assert chosen == chosen_again  # the same forms, orders and AIC values
    assert [len(c["aic_on_training_part"]) for c in chosen.values()] == [4, 4]
    assert list(first) == list(second)
    # and a forecast from origin e reads nothing from e on: change only what follows e
    e = starts[0]
    later = y.copy()
    later[e:] += 1000.0
    third, _ = classical_forecasts(later, train_end, starts[:1], K, period, "full")
    for name in first:
        np.testing.assert_allclose(third[name][0], first[name][0], rtol=1e-12)


def test_multiplicative_season_is_never_tried_on_a_series_that_is_not_positive():
    y, period = sines()
    assert y.min() < 0
    tried = set(HoltWinters.choose(y[:300], period).aic)
    assert tried == {"add season, damped False", "add season, damped True"}
    y, period = macro()
    assert len(HoltWinters.choose(y[:150], period).aic) == 4


def test_none_adds_nothing_and_quick_tries_one_order():
    y, period = macro()
    assert classical_forecasts(y, 150, origins(y), K, period, "none") == ({}, {})
    _, chosen = classical_forecasts(y, 150, origins(y), K, period, "quick")
    assert [len(c["aic_on_training_part"]) for c in chosen.values()] == [1, 1]
