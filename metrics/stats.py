"""Honest-comparison statistics: Wilson intervals for rates, a seeded bootstrap for ROI, Welch's interval for a
difference of two means (an event's before / after), ranking rules."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

# Re-exported: the interval's one home is the SQL macro of data_layer/macros.sql, evaluated by metrics.macros.
from metrics.macros import Z95 as Z95
from metrics.macros import wilson as wilson

EXACT_MAX_UNITS = 400  # contributing units up to which the bootstrap resamples exactly


@dataclass(frozen=True)
class RoiSample:
    """Bootstrap inputs of one group: n units (leads / deals), fixed costs, the units with income or cost."""

    # xs / ys: income and variable cost (commissions) of the contributing units (may be empty for big groups,
    # then `moments` carries their count and sums); the other n - k units contribute nothing.

    n: int
    fixed: float
    xs: np.ndarray
    ys: np.ndarray
    moments: tuple[int, float, float, float, float, float] | None = None  # k, Σx, Σy, Σx², Σy², Σxy

    @property
    def k(self) -> int:
        """Number of contributing units."""
        return self.moments[0] if self.moments is not None else len(self.xs)

    def sums(self) -> tuple[float, float, float, float, float]:
        """Σx, Σy, Σx², Σy², Σxy over the contributing units."""
        if self.moments is not None:
            return self.moments[1:]
        return (float(self.xs.sum()), float(self.ys.sum()), float(self.xs @ self.xs), float(self.ys @ self.ys),
                float(self.xs @ self.ys))


def group_seed(seed: int, key: tuple) -> np.random.SeedSequence:
    """A seed for one group that depends on the group's key, not on row order."""
    text = "|".join("" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in key)
    return np.random.SeedSequence([seed, zlib.crc32(text.encode())])


def _roi(income: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """ROI per draw; NaN where costs are 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(costs != 0, (income - costs) / np.where(costs != 0, costs, 1.0), np.nan)


def _exact_sums(s: RoiSample, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Resample n units with replacement: Binomial hits on contributing units, then uniform picks among them."""
    hits = rng.binomial(s.n, s.k / s.n, size=n_boot)
    picks = rng.integers(0, s.k, size=int(hits.sum()))
    starts = np.concatenate(([0], np.cumsum(hits)[:-1]))
    x_sum = np.add.reduceat(np.append(s.xs[picks], 0.0), starts) if picks.size else np.zeros(n_boot)
    y_sum = np.add.reduceat(np.append(s.ys[picks], 0.0), starts) if picks.size else np.zeros(n_boot)
    empty = hits == 0  # reduceat returns the element at the start for empty slices
    x_sum[empty] = 0.0
    y_sum[empty] = 0.0
    return x_sum, y_sum


def _normal_sums(s: RoiSample, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw the resampled sums from their exact bootstrap mean and covariance (large samples)."""
    sx, sy, sxx, syy, sxy = s.sums()
    mx, my = sx / s.n, sy / s.n
    vxx = sxx / s.n - mx * mx
    vyy = syy / s.n - my * my
    vxy = sxy / s.n - mx * my
    vals, vecs = np.linalg.eigh(s.n * np.array([[vxx, vxy], [vxy, vyy]]))
    # Income and a percent commission are nearly collinear: clip rounding noise below zero.
    scale = vecs * np.sqrt(np.clip(vals, 0.0, None))
    draws = rng.standard_normal((n_boot, 2)) @ scale.T
    return s.n * mx + draws[:, 0], s.n * my + draws[:, 1]


def roi_bootstrap(s: RoiSample, n_boot: int = 1000, seed: int | np.random.SeedSequence = 0,
                  level: float = 0.95) -> tuple[float | None, float | None, str]:
    """Percentile bootstrap interval of ROI = (income - costs) / costs; (None, None, reason) when undefined."""
    if s.n <= 0:
        return None, None, "no data"
    if s.fixed == 0 and s.sums()[1] == 0:
        return None, None, "no costs"
    rng = np.random.default_rng(seed)
    if s.k == 0:
        x_sum, y_sum, method = np.zeros(n_boot), np.zeros(n_boot), "bootstrap"
    elif s.k <= EXACT_MAX_UNITS and len(s.xs) == s.k:
        (x_sum, y_sum), method = _exact_sums(s, n_boot, rng), "bootstrap"
    else:
        (x_sum, y_sum), method = _normal_sums(s, n_boot, rng), "bootstrap-normal"
    rois = _roi(x_sum, s.fixed + y_sum)
    rois = rois[np.isfinite(rois)]
    if rois.size == 0:
        return None, None, "no costs"
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(rois, [tail, 100 - tail])
    return float(low), float(high), method


def t_quantile(p: float, df: float) -> float:
    """Student's t quantile (scipy); the normal quantile when df is infinite."""
    from scipy.stats import t  # imported here: scipy costs ~0.3 s to import and few pages need it

    return float(t.ppf(p, df))


@dataclass(frozen=True)
class Welch:
    """Difference of two means (after − before) with its Welch interval and Welch–Satterthwaite degrees of freedom."""

    diff: float
    low: float
    high: float
    df: float | None  # None when both samples have no spread (the interval is the difference itself)


def welch_interval(before: np.ndarray | list[float], after: np.ndarray | list[float], level: float = 0.95) -> Welch:
    """mean(after) − mean(before) with a Welch `level` interval; each sample needs at least two values."""
    a, b = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if a.size < 2 or b.size < 2:
        raise ValueError("Welch's interval needs at least two values on each side")
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se2 = va + vb
    if se2 == 0:
        return Welch(diff, diff, diff, None)
    df = se2 ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = t_quantile(1 - (1 - level) / 2, df) * math.sqrt(se2)
    return Welch(diff, diff - half, diff + half, float(df))
