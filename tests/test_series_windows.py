"""Windows, splits and scaling: edges exact, no leakage across splits, scaler fitted on train only."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.series.windows import Scaler, make_windows, roll_forward, split_points, split_windows


def rows(length, columns=1):
    """A series whose value is its own row number (times the column number): indices made visible."""
    return np.arange(length, dtype=float)[:, None] * np.arange(1, columns + 1)


def test_first_and_last_window_at_the_edges():
    w = make_windows(rows(20), window=4, horizon=3, lo=0, hi=20)
    assert w.inputs.shape == (14, 4, 1) and w.targets.shape == (14, 3, 1)
    assert w.inputs[0, :, 0].tolist() == [0, 1, 2, 3] and w.targets[0, :, 0].tolist() == [4, 5, 6]
    assert w.inputs[-1, :, 0].tolist() == [13, 14, 15, 16]
    assert w.targets[-1, :, 0].tolist() == [17, 18, 19]
    assert w.starts[0] == 4 and w.starts[-1] == 17


def test_window_of_the_whole_series_and_one_row_too_many():
    assert len(make_windows(rows(7), window=4, horizon=3, lo=0, hi=7)) == 1
    assert len(make_windows(rows(6), window=4, horizon=3, lo=0, hi=6)) == 0


def test_windows_keep_columns_apart():
    w = make_windows(rows(10, columns=3), window=2, horizon=1, lo=0, hi=10)
    assert w.inputs.shape == (8, 2, 3)
    np.testing.assert_array_equal(w.targets[0, 0], [2, 4, 6])


@given(length=st.integers(60, 300), window=st.integers(1, 12), horizon=st.integers(1, 6))
def test_no_leakage_across_splits(length, window, horizon):
    a, b = split_points(length, 0.15, 0.15)
    splits = split_windows(rows(length), window, horizon, 0.15, 0.15)
    train, val, test = splits["train"], splits["val"], splits["test"]
    # training examples never touch a validation or test row, inputs or targets
    assert train.inputs.max() < a and train.targets.max() < a
    # every target lies in its own part; inputs only come from the past
    assert val.targets.min() >= a and val.targets.max() < b
    assert test.targets.min() >= b and test.targets.max() == length - 1
    for part in (train, val, test):
        assert (part.inputs.max(axis=(1, 2)) < part.targets.min(axis=(1, 2))).all()
    # consecutive examples slide by one row, and nothing in a part is skipped
    for part in (train, val, test):
        assert (np.diff(part.starts) == 1).all()
    assert train.starts[0] == window and val.starts[0] == max(a, window) and test.starts[0] == b


def test_too_few_rows_for_one_window_is_a_clear_error():
    with pytest.raises(
        ValueError, match=r"too few rows for one window: the train part .* 10 inputs \+ 5 targets"
    ):
        split_windows(rows(12), window=10, horizon=5, val_fraction=0.15, test_fraction=0.15)
    with pytest.raises(ValueError, match=r"too few rows for one window: the test part"):
        split_windows(rows(40), window=3, horizon=8, val_fraction=0.5, test_fraction=0.1)


def test_scaler_is_fitted_on_training_inputs_only():
    values = np.random.default_rng(0).standard_normal((200, 2)).cumsum(axis=0)
    splits = split_windows(values, 8, 2, 0.2, 0.2)
    a = splits["val"].starts[0]
    poisoned = values.copy()
    poisoned[a:] = 1e6  # wreck everything after the train part
    poisoned_splits = split_windows(poisoned, 8, 2, 0.2, 0.2)
    for relative in (True, False):
        clean = Scaler.fit(splits["train"].inputs, relative)
        dirty = Scaler.fit(poisoned_splits["train"].inputs, relative)
        np.testing.assert_array_equal(clean.mean, dirty.mean)
        np.testing.assert_array_equal(clean.scale, dirty.scale)


@pytest.mark.parametrize("relative", [True, False])
def test_scaler_round_trip_and_origin(relative):
    values = np.random.default_rng(1).standard_normal((100, 3)).cumsum(axis=0) + 50
    w = make_windows(values, 6, 4, 0, 100)
    scaler = Scaler.fit(w.inputs, relative)
    encoded = scaler.encode(w.inputs)
    if relative:  # window-relative: each window is measured from its own last value
        np.testing.assert_array_equal(encoded[:, -1], 0)
    else:  # global: the training inputs come out centred with unit spread
        np.testing.assert_allclose(encoded.mean(axis=(0, 1)), 0, atol=1e-12)
        np.testing.assert_allclose(encoded.std(axis=(0, 1)), 1, atol=1e-12)
    cols = [2, 0]
    z = scaler.encode_targets(w.inputs, w.targets, cols)
    assert z.shape == (len(w), 4, 2)
    np.testing.assert_allclose(scaler.decode(w.inputs, z, cols), w.targets[..., cols])
    again = Scaler.from_state(scaler.state())
    np.testing.assert_array_equal(again.encode(w.inputs), encoded)


def test_roll_forward_feeds_predictions_back():
    inputs = rows(4, columns=2)[None]  # (1, 4, 2): one window of rows 0..3
    seen = []

    def step(window):
        seen.append(window[0, :, 0].tolist())
        return window[:, -1] + 10  # (N, C)

    out = roll_forward(step, inputs, 3)
    assert out.shape == (1, 3, 2)
    assert out[0, :, 0].tolist() == [13, 23, 33]
    assert seen == [[0, 1, 2, 3], [1, 2, 3, 13], [2, 3, 13, 23]]
