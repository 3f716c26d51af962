"""Where the series task's numbers come from: two real records, two synthetic ones, or any CSV.

Every source ends as a ``Series``: a (T, C) float array with no missing values left, the column
names, which column is forecast, and the season length that the seasonal-naive yardstick uses.

- ``co2``: weekly Mauna Loa CO2 (ppm), 1958-2001, shipped inside statsmodels; univariate,
  with gaps that are filled by linear interpolation (and counted).
- ``macro``: quarterly US macro data, 1959-2009, shipped inside statsmodels; multivariate.
- ``sines``: noisy sines with a known period, for tests and smoke runs.
- ``lorenz``: the Lorenz system (x, y, z), a chaotic multivariate series.
- ``csv``: any file, naming the ``--columns`` to read and the ``--target`` to forecast.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cmdline import reason
from tasks.errors import BadInput

DATASETS = ("co2", "macro", "sines", "lorenz", "csv")
MACRO_COLUMNS = ("realgdp", "realcons", "realinv", "unemp")  # inputs of the default macro run
SINES_PERIOD = 25  # steps per cycle of the slower sine: the synthetic series' season


@dataclass
class Series:
    """One forecasting problem: the values over time and which column to forecast."""

    name: str  # where the data came from, for printing and figure titles
    values: np.ndarray  # (T, C) float64, oldest row first, no missing values
    columns: list[str]  # the C column names, in the order of values' columns
    target: str  # the column that is forecast (one of columns)
    period: int  # season length in steps for the seasonal-naive yardstick (1: no season)
    unit: str  # unit of the target, for tables and axis labels
    time: pd.DatetimeIndex | None = None  # (T,) stamps with their frequency, or None: step numbers
    filled: int = 0  # how many missing values were filled by interpolation

    @property
    def target_index(self) -> int:
        """Position of the target among the columns."""
        return self.columns.index(self.target)


def select_columns(
    frame: pd.DataFrame, columns: list[str], target: str, source: str
) -> tuple[np.ndarray, list[str], int]:
    """Pick ``columns`` (target first if absent) from ``frame``, check they are numeric, fill gaps.

    Blank cells count as missing and are filled by linear interpolation in time (the first
    and last known values carry to the edges). Text that is not a number is an error, not a gap:
    guessing it away would hide a broken file; so is a value that is not finite (``inf``, or a
    number too large for a float64, such as 1e400). Returns the (T, C) values, the column names
    and the number of values filled.
    """
    columns = list(columns) if columns else [target]
    if target not in columns:
        columns = [target, *columns]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BadInput(
            f"{source}: no column named {', '.join(map(repr, missing))}; columns are {', '.join(map(str, frame.columns))}"
        )
    picked = frame[columns]
    for name in columns:
        numbers = pd.to_numeric(picked[name], errors="coerce")
        bad = numbers.isna() & picked[name].notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise BadInput(
                f"{source}: column {name!r} holds non-numeric data, e.g. {picked[name].iloc[row]!r} in data row {row + 1}"
            )
        infinite = np.isinf(numbers.to_numpy(dtype="float64"))
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise BadInput(
                f"{source}: column {name!r} holds {picked[name].iloc[row]!r} in data row {row + 1}, "
                "which is not a finite number"
            )
        if numbers.isna().all():
            raise BadInput(f"{source}: column {name!r} has no values at all")
    numeric = picked.apply(pd.to_numeric, errors="coerce").astype("float64")
    filled = int(numeric.isna().sum().sum())
    numeric = numeric.interpolate(method="linear", limit_direction="both")
    return numeric.to_numpy(), columns, filled


def load_co2() -> Series:
    """Weekly atmospheric CO2 at Mauna Loa (ppm), March 1958 to December 2001."""
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    values, columns, filled = select_columns(frame, ["co2"], "co2", "co2")
    return Series("Mauna Loa CO2 (weekly)", values, columns, "co2", 52, "ppm", frame.index, filled)


def load_macro(columns: list[str] | None = None, target: str | None = None) -> Series:
    """Quarterly US macroeconomic data, 1959 Q1 to 2009 Q3; by default real GDP from four series."""
    from statsmodels.datasets import macrodata

    frame = macrodata.load_pandas().data
    target = target or "realgdp"
    values, columns, filled = select_columns(frame, columns or list(MACRO_COLUMNS), target, "macro")
    quarters = pd.PeriodIndex.from_fields(
        year=frame["year"].astype(int), quarter=frame["quarter"].astype(int), freq="Q"
    )
    return Series(
        "US macro (quarterly)",
        values,
        columns,
        target,
        4,
        "",
        quarters.to_timestamp(),
        filled,
    )


def make_sines(length: int = 1000, seed: int = 0) -> Series:
    """A slow and a fast sine plus Gaussian noise: a stationary series with a known season."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = (
        np.sin(2 * np.pi * t / SINES_PERIOD)
        + 0.5 * np.sin(2 * np.pi * t / (SINES_PERIOD / 5))
        + 0.1 * rng.standard_normal(length)
    )
    return Series("noisy sines", y[:, None], ["y"], "y", SINES_PERIOD, "")


def make_lorenz(length: int = 2000, seed: int = 0, dt: float = 0.02) -> Series:
    """The Lorenz system (sigma 10, rho 28, beta 8/3), integrated with RK4, sampled every ``dt``.

    A chaotic three-variable series: each variable alone is hard to forecast, the three together
    determine the future, which makes it a fair test of multivariate inputs.
    """
    rng = np.random.default_rng(seed)

    def slope(s: np.ndarray) -> np.ndarray:
        x, y, z = s
        return np.array([10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z])

    state = np.array([1.0, 1.0, 1.0]) + rng.standard_normal(3)
    steps_per_sample, h = 4, dt / 4
    rows = []
    for _ in range(length + 100):  # the first 100 samples let the orbit settle on the attractor
        for _ in range(steps_per_sample):
            k1 = slope(state)
            k2 = slope(state + h / 2 * k1)
            k3 = slope(state + h / 2 * k2)
            k4 = slope(state + h * k3)
            state = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        rows.append(state)
    return Series("Lorenz system", np.array(rows[100:]), ["x", "y", "z"], "x", 1, "")


def load_csv(path: str | Path, columns: list[str] | None, target: str) -> Series:
    """Read ``columns`` of a CSV file (header row, oldest row first) and forecast ``target``.

    The season length is 1 (none) unless the command line sets ``--period``.
    """
    path = Path(path)
    frame = read_csv(path)
    values, columns, filled = select_columns(frame, columns or [], target, str(path))
    return Series(path.name, values, columns, target, 1, "", None, filled)


def read_csv(path: Path) -> pd.DataFrame:
    """The table in a CSV file, after checking it is one: a UTF-8 text file with a header row
    and at least one data row, every row as many fields as the header (blank lines aside)."""
    if not path.is_file():
        raise BadInput(f"no such CSV file: {path}")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BadInput(f"{path}: cannot read it ({reason(error)})") from None
    if b"\0" in raw:
        raise BadInput(f"{path} is a binary file, not a CSV text file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"{path} is not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    if not rows:
        raise BadInput(f"{path} is empty: a CSV file needs a header row and data rows")
    (_, header), data = rows[0], rows[1:]
    if not data:
        raise BadInput(f"{path} has a header row but no data rows")
    for line, row in data:
        if len(row) != len(header):
            raise BadInput(
                f"{path}: line {line} has {len(row)} fields, the header has {len(header)}"
            )
    return pd.read_csv(io.StringIO(text), dtype=str)  # cells as written: errors quote them


def load_series(
    data: str, csv: str | None = None, columns: list[str] | None = None, target: str | None = None
) -> Series:
    """Build the ``Series`` that the command line names (``--data``, ``--csv``, ``--columns``, ``--target``)."""
    if data == "co2":
        return load_co2()
    if data == "macro":
        return load_macro(columns, target)
    if data == "sines":
        return make_sines()
    if data == "lorenz":
        return make_lorenz()
    if data == "csv":
        if not csv or not target:
            raise BadInput("--data csv needs --csv FILE and --target COLUMN")
        return load_csv(csv, columns, target)
    raise BadInput(f"unknown dataset {data!r}: expected one of {', '.join(DATASETS)}")
