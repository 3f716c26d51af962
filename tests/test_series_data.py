"""Series sources: the real records load whole, gaps are filled and counted, bad CSVs fail clearly."""

import numpy as np
import pytest

from tasks.series.data import load_co2, load_csv, load_macro, load_series, make_lorenz, make_sines


def test_co2_gaps_are_filled_and_counted():
    series = load_co2()
    assert series.values.shape == (2284, 1)
    assert series.filled == 59
    assert not np.isnan(series.values).any()
    assert series.period == 52


def test_macro_is_multivariate_with_the_target_among_the_inputs():
    series = load_macro(["unemp", "infl"], "realgdp")
    assert series.columns == ["realgdp", "unemp", "infl"]
    assert series.target_index == 0
    assert series.values.shape == (203, 3)


def test_synthetic_series_are_seeded():
    assert np.array_equal(make_sines(seed=3).values, make_sines(seed=3).values)
    assert not np.array_equal(make_sines(seed=3).values, make_sines(seed=4).values)
    lorenz = make_lorenz(length=300)
    assert lorenz.values.shape == (300, 3) and np.isfinite(lorenz.values).all()


def write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_csv_blank_cells_are_interpolated_and_counted(tmp_path):
    path = write(tmp_path, "date,a,b\n2020-01,1,10\n2020-02,,20\n2020-03,3,\n2020-04,4,40\n")
    series = load_csv(path, ["a", "b"], "b")
    assert series.columns == ["a", "b"] and series.target == "b"
    assert series.filled == 2
    np.testing.assert_allclose(series.values, [[1, 10], [2, 20], [3, 30], [4, 40]])


def test_csv_missing_column_is_named(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,4\n")
    with pytest.raises(ValueError, match=r"no column named 'c'; columns are a, b"):
        load_csv(path, ["a", "c"], "a")


def test_csv_non_numeric_data_is_an_error_not_a_gap(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n3,oops\n5,6\n")
    with pytest.raises(
        ValueError, match=r"column 'b' holds non-numeric data, e.g. 'oops' in data row 2"
    ):
        load_csv(path, ["a", "b"], "b")


def test_csv_needs_a_file_and_a_target(tmp_path):
    with pytest.raises(ValueError, match="no such CSV file"):
        load_csv(tmp_path / "absent.csv", None, "a")
    with pytest.raises(ValueError, match="needs --csv FILE and --target COLUMN"):
        load_series("csv", csv=None, target="a")
    with pytest.raises(ValueError, match="unknown dataset 'weather'"):
        load_series("weather")


@pytest.mark.parametrize(
    "text, says",
    [
        ("a,b\n1,2\n3,inf\n5,6\n", r"column 'b' holds 'inf' in data row 2, which is not a finite"),
        ("a,b\n1,2\n-Infinity,4\n", r"column 'a' holds '-Infinity' in data row 2"),
        ("a,b\n1,2\n3,1e400\n", r"column 'b' holds '1e400' in data row 2, which is not a finite"),
        ("a,b\n1,2\n3,4,5\n6,7\n", r"line 3 has 3 fields, the header has 2"),
        ("a,b\n1,2\n3\n6,7\n", r"line 3 has 1 fields, the header has 2"),
        ("", r"is empty: a CSV file needs a header row and data rows"),
        ("\n\n", r"is empty"),
        ("a,b\n", r"has a header row but no data rows"),
    ],
    ids=["inf", "-Infinity", "overflow", "long-row", "short-row", "empty", "blank", "header-only"],
)
def test_csv_that_cannot_be_trusted_is_rejected_at_the_door(tmp_path, text, says):
    with pytest.raises(ValueError, match=says):
        load_csv(write(tmp_path, text), ["a", "b"], "a")


def test_binary_and_non_utf8_files_are_not_read_as_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary zip bytes")
    with pytest.raises(ValueError, match=r"is a binary file, not a CSV text file"):
        load_csv(path, ["a"], "a")
    path.write_bytes(b"a,b\n1,\xff\n")
    with pytest.raises(ValueError, match=r"is not a UTF-8 text file"):
        load_csv(path, ["a"], "a")
