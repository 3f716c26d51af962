"""Dates written the ways people write them, each with its ISO form, generated from a fixed seed.

    thursday 26 november 2026     ─▶  2026-11-26
    26/11/26                      ─▶  2026-11-26
    NOV 26TH, 2026                ─▶  2026-11-26
    The 26th Of November 2026     ─▶  2026-11-26

``FORMATS`` holds thirty ways, each in lower, title or upper case (``CASES``). Day-first is the
only order of numeric dates (never 11/26 for November 26): no input can be read two ways.
A two-digit year is read in the century window ``WINDOW`` (50 is 1950, 49 is 2049), so formats
that write two digits only ever write a year inside it.

The splits (``make_splits``): the training pairs and the in-range held-out pairs come from the
window's years, with no date (day, month, year) in both; the out-of-range held-out pairs come
from the years of ``OUTSIDE``, never seen in training, in the formats that write all four
digits (the only ones that can).
"""

import calendar
import string
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

WINDOW = (1950, 2049)  # a two-digit year yy is the year of this window that ends in yy
OUTSIDE = ((1900, 1949), (2050, 2099))  # years of the out-of-range held-out dates
DATA_SEED = 20261126  # the one stream every split is drawn from

MONTHS = [name.lower() for name in calendar.month_name[1:]]
MONTHS_ABBR = [name.lower() for name in calendar.month_abbr[1:]]
DAYS = [name.lower() for name in calendar.day_name]
DAYS_ABBR = [name.lower() for name in calendar.day_abbr]

# Fields: d day, dd day in two digits, th the day's ordinal suffix, m / mm month, M month name,
# Mon its abbreviation, W weekday, Wd its abbreviation, yyyy year, yy its last two digits.
FORMATS = (
    "{W} {d} {M} {yyyy}",
    "{dd}/{mm}/{yy}",
    "{Mon} {d}{th}, {yyyy}",
    "the {d}{th} of {M} {yyyy}",
    "{d} {M} {yyyy}",
    "{M} {d}, {yyyy}",
    "{W}, {M} {d}, {yyyy}",
    "{dd}.{mm}.{yyyy}",
    "{d}.{m}.{yy}",
    "{yyyy}/{mm}/{dd}",
    "{d} {Mon} {yyyy}",
    "{dd}-{Mon}-{yy}",
    "{Mon} {d} {yyyy}",
    "{W} {d}{th} {M}, {yyyy}",
    "{M} {d}{th} {yyyy}",
    "{d}{th} {M} {yyyy}",
    "{W} the {d}{th} of {M}, {yyyy}",
    "{yyyy}{mm}{dd}",
    "{Mon}. {d}, {yyyy}",
    "{d} {M} '{yy}",
    "{M} the {d}{th}, {yyyy}",
    "{W}, {d} {Mon} {yyyy}",
    "{Wd} {d} {Mon} {yyyy}",
    "{d}/{m}/{yyyy}",
    "{yyyy}.{m}.{d}",
    "{M} {d}{th}, '{yy}",
    "{d} of {M}, {yyyy}",
    "{Wd}, {M} {d} {yyyy}",
    "{dd} {Mon} {yyyy}",
    "{yyyy}-{m}-{d}",
)
TWO_DIGIT = tuple(f for f in FORMATS if "{yy}" in f)  # year as two digits: inside WINDOW only
FOUR_DIGIT = tuple(f for f in FORMATS if "{yy}" not in f)
CASES = ("lower", "title", "upper")

INPUT_CHARS = string.ascii_letters + string.digits + " ,./-'"  # every character a format writes
PAD, SOS, EOS = 0, 1, 2  # output ids before the characters of OUTPUT_CHARS
OUTPUT_CHARS = string.digits + "-"
ISO_LENGTH = 10  # yyyy-mm-dd


def ordinal(day: int) -> str:
    """The suffix of an ordinal day: 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ..."""
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def write(day: date, fmt: str, case: str) -> str:
    """``day`` written in format ``fmt`` and ``case``."""
    text = fmt.format(
        d=day.day,
        dd=f"{day.day:02}",
        th=ordinal(day.day),
        m=day.month,
        mm=f"{day.month:02}",
        M=MONTHS[day.month - 1],
        Mon=MONTHS_ABBR[day.month - 1],
        W=DAYS[day.weekday()],
        Wd=DAYS_ABBR[day.weekday()],
        yyyy=day.year,
        yy=f"{day.year % 100:02}",
    )
    if case == "upper":
        return text.upper()
    if case == "title":  # capitalise words that start with a letter: "26th" stays, not "26Th"
        return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
    return text


def read_two_digit_year(yy: int) -> int:
    """The year of ``WINDOW`` that ends in ``yy``: the one way a two-digit year is read."""
    first, _ = WINDOW
    return first + (yy - first % 100) % 100


@dataclass(frozen=True)
class Pair:
    text: str  # the date as written, e.g. "26/11/26"
    iso: str  # its ISO form, e.g. "2026-11-26"
    fmt: str  # the format it was written in, from FORMATS


def _draw(rng: np.random.Generator, years: tuple[int, int], formats: tuple[str, ...]) -> Pair:
    first, last = date(years[0], 1, 1), date(years[1], 12, 31)
    day = first + timedelta(days=int(rng.integers((last - first).days + 1)))
    fmt = formats[int(rng.integers(len(formats)))]
    return Pair(write(day, fmt, CASES[int(rng.integers(len(CASES)))]), day.isoformat(), fmt)


def days(years: tuple[int, int]) -> int:
    """How many days the years ``years`` (first and last included) hold."""
    return (date(years[1], 12, 31) - date(years[0], 1, 1)).days + 1


def make_splits(train_pairs: int, held_out_pairs: int) -> dict[str, list[Pair]]:
    """{"train": ``train_pairs`` pairs, "in_range": ``held_out_pairs`` held-out pairs of other
    dates of the same years, "outside": as many of years outside them}: for given sizes, the
    same for every run."""
    rng = np.random.default_rng(DATA_SEED)
    held = [_draw(rng, WINDOW, FORMATS) for _ in range(held_out_pairs)]
    outside = [_draw(rng, OUTSIDE[i % 2], FOUR_DIGIT) for i in range(held_out_pairs)]
    held_dates = {p.iso for p in held}
    train = []
    while len(train) < train_pairs:  # every held-out date kept out of training
        pair = _draw(rng, WINDOW, FORMATS)
        if pair.iso not in held_dates:
            train.append(pair)
    return {"train": train, "in_range": held, "outside": outside}


def encode_input(text: str) -> list[int]:
    """Input ids: 1 + the character's index in INPUT_CHARS (0 is padding)."""
    return [1 + INPUT_CHARS.index(ch) for ch in text]


def encode_output(iso: str) -> list[int]:
    """Output ids of the ISO date and its end: the characters after PAD, SOS, EOS, then EOS."""
    return [3 + OUTPUT_CHARS.index(ch) for ch in iso] + [EOS]


def decode_output(ids: list[int]) -> str:
    """The characters of output ids up to the first EOS (ids that are no character dropped)."""
    chars = []
    for i in ids:
        if i == EOS:
            break
        if i >= 3:
            chars.append(OUTPUT_CHARS[i - 3])
    return "".join(chars)
