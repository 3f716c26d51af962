"""The forecasters' own yardsticks, from statsmodels: Holt–Winters exponential smoothing and a
seasonal ARIMA. Everything they choose, they choose on the training part alone: the form of
the model (additive or multiplicative season; the ARIMA orders, by AIC over a small grid) and
its parameters. Then, with those parameters fixed, each is run over the series up to every
test origin and forecasts the K steps after it: like the network, it never sees a value it
forecasts, but unlike the network (which reads a window of W steps) it conditions on the whole
history before the origin, as these models are used.

- Holt–Winters (``ExponentialSmoothing``): a level ℓ, an additive trend b and a season s of
  m steps, updated at each step by exponential smoothing; additive (ℓ + b + s) or
  multiplicative ((ℓ + b) · s) season, the trend damped by φ < 1 or not (φ = 1), whichever
  form has the lowest AIC on the training part (the multiplicative season only for a
  positive series). From origin e, with φ_h = φ + … + φ^h:
  ŷ_{e+h} = ℓ_e + φ_h b_e + s_{e+h−m⌈h/m⌉}   (additive; × s for the multiplicative form).
- Seasonal ARIMA (``SARIMAX``): ARIMA(p, 1, q) with a drift, and the season either as
  (P, 1, Q)_m (for m ≤ ``SEASONAL_LAGS``) or, for a long season (52 weeks: a state of more
  than 52 numbers, minutes per fit), as ``FOURIER`` pairs of sines and cosines of period m
  (dynamic harmonic regression; Hyndman & Athanasopoulos, Forecasting: Principles and
  Practice, 3rd ed., §12.1). (p, q, P, Q) by AIC over ``GRID`` on the training part. The
  forecasts from every origin come from one Kalman filter pass over the series with the
  fitted parameters: the state predicted at e, carried K steps through the transition matrix.

``quick`` (the smoke preset): the additive season with a linear trend, one ARIMA order; seconds.
"""

import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from statsmodels.tools.sm_exceptions import ConvergenceWarning, ValueWarning
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.statespace.sarimax import SARIMAX

MODES = ("full", "quick", "none")  # the series config's --classical
SEASONAL_LAGS = 12  # the longest season modelled as a seasonal ARIMA part; longer: Fourier terms
FOURIER = 4  # sine-cosine pairs of the season for a long season
GRID = {"p": (0, 1, 2), "q": (0, 1, 2), "P": (0, 1), "Q": (0, 1)}  # the AIC search (full)
QUICK = {"p": (1,), "q": (1,), "P": (0,), "Q": (1,)}  # one order (quick)


@contextmanager
def quiet() -> Iterator[None]:
    """statsmodels' fitting warnings silenced: a grid tries orders that fit badly by design
    (AIC then rules them out), and its frequency and convergence notes say nothing to a reader."""
    with warnings.catch_warnings():
        for category in (ConvergenceWarning, ValueWarning, RuntimeWarning, UserWarning):
            warnings.simplefilter("ignore", category)
        yield


# ---------------------------------------------------------------------------------------------
# Holt–Winters


@dataclass
class HoltWinters:
    """A Holt–Winters model chosen and fitted on the training part: its form and parameters."""

    seasonal: str | None  # "add", "mul", or None for a series without a season
    damped: bool  # is the trend damped (φ < 1) or carried on as it is (φ = 1)
    period: int
    params: dict  # statsmodels' fitted parameters: smoothing levels, damping, initial states
    aic: dict  # AIC of each form tried, on the training part

    @property
    def name(self) -> str:
        form = {"add": "additive", "mul": "multiplicative", None: "no"}[self.seasonal]
        return f"Holt–Winters ({form} season, {'damped' if self.damped else 'linear'} trend)"

    @classmethod
    def choose(cls, train: np.ndarray, period: int, quick: bool = False) -> "HoltWinters":
        """Fit every form on ``train`` (the training part's target) and keep the lowest AIC:
        additive or multiplicative season (multiplicative only for a positive series), damped
        trend or not; ``quick``: the additive season and a linear trend alone."""
        seasons = [None] if period < 2 else ["add"] if quick or train.min() <= 0 else ["add", "mul"]
        forms = list(itertools.product(seasons, [False] if quick else [False, True]))
        fits, aic = {}, {}
        with quiet():
            for seasonal, damped in forms:
                fits[seasonal, damped] = _holt_winters(train, seasonal, damped, period).fit()
                aic[f"{seasonal} season, damped {damped}"] = float(fits[seasonal, damped].aic)
        best = min(fits, key=lambda form: fits[form].aic)
        return cls(*best, period, dict(fits[best].params), aic)

    def forecasts(self, series: np.ndarray, starts: np.ndarray, horizon: int) -> np.ndarray:
        """(N, K): from each origin e in ``starts``, having seen series[:e], the next K steps."""
        p = self.params
        known = {
            "initialization_method": "known",
            "initial_level": p["initial_level"],
            "initial_trend": p["initial_trend"],
        }
        if self.seasonal:
            known["initial_seasonal"] = p["initial_seasons"]
        with quiet():
            run = _holt_winters(series, self.seasonal, self.damped, self.period, **known).fit(
                smoothing_level=p["smoothing_level"],
                smoothing_trend=p["smoothing_trend"],
                smoothing_seasonal=p["smoothing_seasonal"] if self.seasonal else None,
                damping_trend=p["damping_trend"] if self.damped else None,
                optimized=False,
            )
        last = starts - 1  # the states after the last value seen
        h = np.arange(1, horizon + 1)
        phi = p["damping_trend"] if self.damped else 1.0
        damped = np.cumsum(phi**h)  # φ + … + φ^h
        trend = run.level[last, None] + damped[None] * run.trend[last, None]  # (N, K)
        if not self.seasonal:
            return trend
        m = self.period
        back = last[:, None] + h[None] - m * ((h[None] - 1) // m + 1)  # the season's last copy
        season = run.season[back]
        return trend + season if self.seasonal == "add" else trend * season


def _holt_winters(
    y: np.ndarray, seasonal: str | None, damped: bool, period: int, **known
) -> ExponentialSmoothing:
    return ExponentialSmoothing(
        y,
        trend="add",
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=period if seasonal else None,
        **known,
    )


# ---------------------------------------------------------------------------------------------
# seasonal ARIMA


def fourier(length: int, period: int, pairs: int = FOURIER) -> np.ndarray:
    """(length, 2·pairs): sin and cos of 2πkt/m for k = 1..pairs, t = 0..length−1."""
    t = np.arange(length)[:, None]
    k = np.arange(1, pairs + 1)[None]
    angle = 2 * np.pi * k * t / period
    return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)


@dataclass
class SeasonalARIMA:
    """ARIMA(p, 1, q) with a drift, and the season as (P, 1, Q)_m or as Fourier terms."""

    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    period: int
    harmonics: bool  # the season as Fourier terms (a long season)
    params: np.ndarray
    aic: dict  # AIC of each order tried, on the training part

    @property
    def name(self) -> str:
        p, d, q = self.order
        if self.harmonics:
            return f"ARIMA({p},{d},{q}) + {FOURIER} Fourier pairs of {self.period}"
        P, D, Q, m = self.seasonal_order
        return f"SARIMA({p},{d},{q})({P},{D},{Q})_{m}"

    @classmethod
    def choose(cls, train: np.ndarray, period: int, quick: bool = False) -> "SeasonalARIMA":
        """Fit every order of the grid on ``train`` and keep the lowest AIC."""
        grid = QUICK if quick else GRID
        harmonics = period > SEASONAL_LAGS
        seasonal = 1 < period <= SEASONAL_LAGS
        best, aic = None, {}
        for p, q, P, Q in itertools.product(grid["p"], grid["q"], grid["P"], grid["Q"]):
            if not seasonal and (P, Q) != (grid["P"][0], grid["Q"][0]):
                continue  # without a seasonal part, P and Q mean nothing: one of each
            order = (p, 1, q)
            seasonal_order = (P, 1, Q, period) if seasonal else (0, 0, 0, 0)
            model = _sarimax(train, order, seasonal_order, period, harmonics)
            with quiet():
                fitted = model.fit(disp=False)
            aic[f"{order} {seasonal_order}"] = float(fitted.aic)
            if best is None or fitted.aic < best[0].aic:
                best = (fitted, order, seasonal_order)
        fitted, order, seasonal_order = best
        return cls(order, seasonal_order, period, harmonics, fitted.params, aic)

    def forecasts(self, series: np.ndarray, starts: np.ndarray, horizon: int) -> np.ndarray:
        """(N, K): from each origin e in ``starts``, having seen series[:e], the next K steps."""
        model = _sarimax(series, self.order, self.seasonal_order, self.period, self.harmonics)
        with quiet():
            run = model.filter(self.params)
        ssm = run.filter_results
        state = ssm.predicted_state[:, starts]  # (k, N): the state at e, given series[:e]
        out = np.empty((len(starts), horizon))
        for h in range(horizon):
            t = starts + h
            design = _at(ssm.design, t)[0]  # (k, N)
            out[:, h] = (design * state).sum(axis=0) + _at(ssm.obs_intercept, t)[0]
            transition = ssm.transition[..., 0]  # time-invariant for SARIMAX
            state = transition @ state + _at(ssm.state_intercept, t)
        return out


def _at(matrix: np.ndarray, t: np.ndarray) -> np.ndarray:
    """A state-space matrix at times ``t``: its last axis is time, or one step for all."""
    return matrix[..., t] if matrix.shape[-1] > 1 else np.repeat(matrix, len(t), axis=-1)


def _sarimax(y, order, seasonal_order, period, harmonics) -> SARIMAX:
    exog = fourier(len(y), period) if harmonics else None
    return SARIMAX(y, exog=exog, order=order, seasonal_order=seasonal_order, trend="t")


# ---------------------------------------------------------------------------------------------


def classical_forecasts(
    series: np.ndarray, train_end: int, starts: np.ndarray, horizon: int, period: int, mode: str
) -> tuple[dict[str, np.ndarray], dict]:
    """The statsmodels yardsticks' forecasts of ``series`` (the target, (T,)) from every origin
    in ``starts``: (name -> (N, K), what was chosen and why). Chosen on series[:train_end] only."""
    if mode == "none":
        return {}, {}
    train, quick = series[:train_end], mode == "quick"
    out, chosen = {}, {}
    for model in (
        HoltWinters.choose(train, period, quick),
        SeasonalARIMA.choose(train, period, quick),
    ):
        out[model.name] = model.forecasts(series, starts, horizon)
        chosen[model.name] = {"aic_on_training_part": model.aic}
    return out, chosen
