"""Partial pooling of small partners (empirical Bayes): conversion and ROI pulled toward the model's average.

Every partner row of a KPI frame keeps its raw conversion and ROI and gains a pooled estimate beside them:

* **Conversion** — a beta-binomial fit (see conversion_priors). The prior mean is the model's pooled conversion
  (its wins ÷ its leads), itself shrunk toward all partners' by the same fit over the models' totals; its strength
  k = α + β maximises the beta-binomial marginal likelihood of the model's partners (a grid over log k, then a
  bounded refinement: the likelihood of few partners is flat and can have two modes; models with fewer than
  MIN_OWN_FIT partners share one k), widened by the uncertainty of the mean itself. The pooled conversion is the
  posterior mean (wins + α) / (leads + α + β) = weight × raw + (1 − weight) × prior mean with weight = leads /
  (leads + k); its 95 % interval is the posterior Beta's 2.5 % and 97.5 % quantiles.
* **ROI** — a normal approximation of the same idea. A partner's sampling spread s is its bootstrap interval's
  half width ÷ 1.96; where it has none, or one of zero width (every resample agreed, as for three equal deals:
  that has not shown it is certain), the model's per-lead spread σ² / leads, with σ² the median of leads × s² over
  the model's partners. The between-partner variance τ² is what the raw ROIs' spread around the model's ROI
  exceeds the mean sampling variance by (method of moments); k_roi = σ² / τ², weight = leads / (leads + k_roi),
  the pooled ROI = model ROI + weight × (raw − model ROI), and each pooled bound lies √weight × its raw half
  width from it (the posterior spread of a normal-normal model), so the pooled interval is never wider.

Degenerate cases, stated once (the glossary repeats them):

* k (and k_roi) are capped at the model's mean leads per partner — when the partners differ no more than chance
  explains (zero between-partner variance) the fit would pool them completely; capped, a partner of average size
  always keeps at least half of its own estimate — and floored at K_FLOOR.
* A frame with fewer than two partners with leads, or all of them at 0 % (or 100 %: a prior at the boundary has
  no spread), is not pooled: pooled = raw, weight 1, the raw intervals. For ROI, a model that cannot be fitted
  (fewer than two partners with an ROI, no bootstrap interval of any width, no ROI of its own) borrows the fit of
  all partners of the frame together.
* Direct sales (partner_id null) are the baseline, not a partner: pooled = raw, weight 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

Z95 = 1.959963984540054
K_FLOOR = 0.5  # a prior worth less than half a lead pools nothing visible; below it the fit is noise
MIN_OWN_FIT = 5  # partners a model needs for its own k (else the k of all partners)
GRID = 48  # points of the log-k grid the marginal likelihood is scanned on before the bounded refinement
POOLED_COLUMNS = ("conversion_pooled", "conversion_pooled_low", "conversion_pooled_high", "roi_pooled",
                  "roi_pooled_low", "roi_pooled_high", "pool_weight", "roi_pool_weight")
POOLED_METRICS = ("conversion", "roi")


# ---------- conversion: beta-binomial ----------

def _neg_loglik(log_k: np.ndarray | float, wins: np.ndarray, leads: np.ndarray,
                means: np.ndarray | float) -> np.ndarray:
    """Minus the beta-binomial log marginal likelihood of the partners' wins for prior means (one per partner, or
    one for all) and k = exp(log_k), without the binomial coefficients (constant in k); one value per log_k."""
    k = np.exp(np.atleast_1d(np.asarray(log_k, dtype=float)))[:, None]
    a, b = means * k, (1.0 - means) * k
    return -(special.betaln(wins + a, leads - wins + b) - special.betaln(a, b)).sum(axis=1)


def _best_k(wins: np.ndarray, leads: np.ndarray, means: np.ndarray | float) -> float:
    """k maximising the marginal likelihood between K_FLOOR and the mean leads per partner (the cap)."""
    lo, hi = np.log(K_FLOOR), np.log(max(float(leads.mean()), K_FLOOR))
    if hi - lo < 1e-9:
        return float(np.exp(hi))
    grid = np.linspace(lo, hi, GRID)
    values = _neg_loglik(grid, wins, leads, means)
    best = int(np.argmin(values))
    # refine around the best grid point only: the flat likelihood of few partners can have two modes
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, GRID - 1)]
    found = optimize.minimize_scalar(lambda x: float(_neg_loglik(x, wins, leads, means)[0]), bounds=(left, right),
                                     method="bounded", options={"xatol": 1e-3})
    return float(np.exp(found.x if found.fun <= values[best] else grid[best]))


def fit_k(wins: np.ndarray, leads: np.ndarray) -> tuple[float, float] | None:
    """(prior mean, k) of partners' wins / leads by marginal likelihood; None for fewer than two partners or when
    every one converts 0 % (or 100 %): a prior at the boundary has no spread to give an interval."""
    keep = leads > 0
    wins, leads = wins[keep], leads[keep]
    if len(leads) < 2:
        return None
    mean = float(wins.sum() / leads.sum())
    if mean in (0.0, 1.0):
        return None
    return mean, _best_k(wins, leads, mean)


def posterior(wins: np.ndarray, leads: np.ndarray, mean: float,
              k: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pooled, low, high, weight) of partners' wins / leads under the prior Beta(mean·k, (1 − mean)·k)."""
    a = wins + mean * k
    b = leads - wins + (1.0 - mean) * k
    mean_post = a / (a + b)
    # a Beta with a tiny b (or a) is so skewed that its mean can fall outside its central 95 %: keep the estimate in
    return (mean_post, np.fmin(stats.beta.ppf(0.025, a, b), mean_post), np.fmax(stats.beta.ppf(0.975, a, b), mean_post),
            leads / (leads + k))


Cols = dict[str, np.ndarray]  # the frame's columns as float arrays (the pooled ones filled in place)


def conversion_priors(wins: np.ndarray, leads: np.ndarray,
                      groups: dict[Any, np.ndarray]) -> dict[Any, tuple[float, float] | None]:
    """Each model's beta prior (mean, k) for its partners' conversion (groups: model -> row positions).

    The mean: the model's pooled conversion, itself shrunk toward all partners' by the same beta-binomial fit over
    the models' totals (weight N_model / (N_model + K)), so a model of few leads (a lone partner's, say) does not
    set its average on its own. k: fitted on the model's partners when it has MIN_OWN_FIT of them, else one k for
    all partners (each pulled toward its model's mean): a few partners' likelihood is flat and can have two modes.
    The k returned is the effective one: the mean's own uncertainty (it rests on N_model + K leads) widens the
    prior, 1 / (k_eff + 1) = 1 / (k + 1) + 1 / (N_model + K + 1).
    """
    groups = {m: idx[leads[idx] > 0] for m, idx in groups.items()}
    groups = {m: idx for m, idx in groups.items() if len(idx)}
    everyone = np.concatenate(list(groups.values())) if groups else np.array([], dtype=int)
    if fit_k(wins[everyone], leads[everyone]) is None:
        return dict.fromkeys(groups)  # fewer than two partners, or all at 0 % / 100 %: nothing to pool toward
    totals_w = np.array([wins[idx].sum() for idx in groups.values()])
    totals_n = np.array([leads[idx].sum() for idx in groups.values()])
    upper = fit_k(totals_w, totals_n)  # across models: (all partners' conversion, K); None for one model
    strength = totals_n if upper is None else totals_n + upper[1]  # how many leads the model's mean rests on
    means = totals_w / totals_n if upper is None else (totals_w + upper[0] * upper[1]) / strength
    # one k for models too small to fit their own: from the partners of models with two or more (a lone partner
    # barely deviates from a mean it sets itself), or, when no model has two, from all around their average
    paired = [(idx, m) for idx, m in zip(groups.values(), means, strict=True) if len(idx) >= 2]
    if paired:
        rows = np.concatenate([idx for idx, _ in paired])
        row_means = np.concatenate([np.full(len(idx), m) for idx, m in paired])
        shared = _best_k(wins[rows], leads[rows], row_means)
    else:
        shared = _best_k(wins[everyone], leads[everyone], float(wins[everyone].sum() / leads[everyone].sum()))
    priors: dict[Any, tuple[float, float] | None] = {}
    for (model, idx), mean, n_mean in zip(groups.items(), means, strength, strict=True):
        k = _best_k(wins[idx], leads[idx], mean) if len(idx) >= MIN_OWN_FIT else shared
        # the mean is an estimate too: its variance adds to the prior's, Beta variances going as 1 / (strength + 1)
        priors[model] = (float(mean), max(1.0 / (1.0 / (k + 1.0) + 1.0 / (n_mean + 1.0)) - 1.0, K_FLOOR))
    return priors


def _pool_conversion(c: Cols, groups: dict[Any, np.ndarray]) -> None:
    """Fill the conversion_pooled* and pool_weight of each model's partner rows (groups: model -> row positions)."""
    for model, fit in conversion_priors(c["wins"], c["leads"], groups).items():
        if fit is None:
            continue  # not pooled: the raw values stay
        idx = groups[model][c["leads"][groups[model]] > 0]
        (c["conversion_pooled"][idx], c["conversion_pooled_low"][idx], c["conversion_pooled_high"][idx],
         c["pool_weight"][idx]) = posterior(c["wins"][idx], c["leads"][idx], *fit)


def _model_roi(c: Cols, idx: np.ndarray) -> float:
    """ROI of partner rows together: (Σ income − Σ costs) / Σ costs (NaN without costs)."""
    costs = float(c["costs"][idx].sum())
    return (float(c["income"][idx].sum()) - costs) / costs if costs else float("nan")


def _roi_fit(c: Cols, idx: np.ndarray) -> tuple[float, float, float] | None:
    """(model ROI, per-lead variance σ², k_roi) of the partner rows idx; None when it cannot be fitted."""
    model_roi = _model_roi(c, idx)
    idx = idx[np.isfinite(c["roi"][idx]) & (c["leads"][idx] > 0)]
    if len(idx) < 2 or not np.isfinite(model_roi):
        return None
    n = c["leads"][idx]
    half = (c["roi_high"][idx] - c["roi_low"][idx]) / (2 * Z95)
    known = np.isfinite(half) & (half > 0)
    if not known.any():
        return None
    # the median keeps one partner of another cost scale from setting every small partner's spread
    sigma2 = float(np.median(n[known] * half[known] ** 2))
    tau2 = float(((c["roi"][idx] - model_roi) ** 2).sum() / (len(idx) - 1)) - float(np.mean(sigma2 / n))
    cap = max(float(n.mean()), K_FLOOR)
    k = cap if tau2 <= 0 else float(np.clip(sigma2 / tau2, K_FLOOR, cap))
    return model_roi, sigma2, k


def _pool_roi(c: Cols, groups: dict[Any, np.ndarray], everyone: np.ndarray) -> None:
    """Fill the roi_pooled* and roi_pool_weight of each model's partner rows."""
    overall = _roi_fit(c, everyone)
    for idx in groups.values():
        fit = _roi_fit(c, idx) or overall
        if fit is None:
            continue
        mean, sigma2, k = fit
        idx = idx[np.isfinite(c["roi"][idx]) & (c["leads"][idx] > 0)]
        roi, n = c["roi"][idx], c["leads"][idx]
        w = n / (n + k)
        lo_half, hi_half = roi - c["roi_low"][idx], c["roi_high"][idx] - roi
        # no interval, or one of zero width (every resample agreed, as for a few equal deals): the model's
        # per-lead spread for this many leads instead
        flat = ~np.isfinite(lo_half + hi_half) | (lo_half + hi_half <= 0)
        fallback = Z95 * np.sqrt(sigma2 / n)
        lo_half, hi_half = np.where(flat, fallback, lo_half), np.where(flat, fallback, hi_half)
        centre = mean + w * (roi - mean)
        c["roi_pooled"][idx] = centre
        c["roi_pooled_low"][idx] = np.fmax(centre - np.sqrt(w) * lo_half, -1.0)  # income ≥ 0: ROI ≥ −1
        c["roi_pooled_high"][idx] = centre + np.sqrt(w) * hi_half
        c["roi_pool_weight"][idx] = w


# ---------- public ----------

RAW = {"conversion_pooled": "conversion", "conversion_pooled_low": "conversion_low",
       "conversion_pooled_high": "conversion_high", "roi_pooled": "roi", "roi_pooled_low": "roi_low",
       "roi_pooled_high": "roi_high"}


def _floats(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as a float array (NaN for missing), a copy."""
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan).copy()


def add_pooled(rows: pd.DataFrame) -> pd.DataFrame:
    """rows (a KPI frame by partner, optionally with roi_low / roi_high) plus the pooled columns (POOLED_COLUMNS)."""
    c: Cols = {col: _floats(rows, col) for col in ("leads", "conversion", "roi", "income", "costs", *RAW.values())}
    # raw values first: direct, unpooled models and rows without leads keep them (weight 1)
    c.update({pooled: c[raw].copy() for pooled, raw in RAW.items()})
    c["pool_weight"] = np.where(c["leads"] > 0, 1.0, np.nan)
    c["roi_pool_weight"] = np.where(np.isfinite(c["roi"]), 1.0, np.nan)
    if len(rows) and "partner_id" in rows.columns:
        # conversion is a share of the period's leads in both views: its wins are conversion × leads
        c["wins"] = np.round(np.nan_to_num(c["conversion"]) * np.nan_to_num(c["leads"]))
        everyone = np.flatnonzero(rows["partner_id"].notna().to_numpy())
        models = rows["model"].astype(object).where(rows["model"].notna(), "unassigned").to_numpy()[everyone]
        groups = {m: everyone[models == m] for m in dict.fromkeys(models)}
        _pool_conversion(c, groups)
        _pool_roi(c, groups, everyone)
    # one concat instead of a column insert each (eight inserts cost ~2 ms)
    pooled = pd.DataFrame({col: c[col] for col in POOLED_COLUMNS}, index=rows.index)
    return pd.concat([rows.drop(columns=[col for col in POOLED_COLUMNS if col in rows.columns]), pooled], axis=1)


def with_roi(rows: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """KPI rows by partner plus roi_low / roi_high of roi_interval's rows, matched by partner_id."""
    if intervals.empty or "partner_id" not in intervals.columns:
        return rows.assign(roi_low=np.nan, roi_high=np.nan)
    keyed = intervals[intervals["partner_id"].notna()]
    bounds = {int(p): (lo, hi) for p, lo, hi in zip(keyed["partner_id"], keyed["roi_low"], keyed["roi_high"],
                                                    strict=True)}
    found = [bounds.get(int(p), (np.nan, np.nan)) if pd.notna(p) else (np.nan, np.nan) for p in rows["partner_id"]]
    return rows.assign(roi_low=np.array([b[0] for b in found], dtype="float64"),
                       roi_high=np.array([b[1] for b in found], dtype="float64"))


def bound_column(df: pd.DataFrame, metric: str, higher_is_better: bool) -> tuple[pd.DataFrame, str]:
    """(df, the cautious bound column to rank by): the pooled bound where the metric is pooled (added when
    missing and df can carry it), else the raw interval's."""
    side = "_low" if higher_is_better else "_high"
    if metric not in POOLED_METRICS:
        return df, f"{metric}{side}"
    pooled = f"{metric}_pooled{side}"
    needs = {"partner_id", "model", "leads", "conversion", "conversion_low", "conversion_high", "roi", "income",
             "costs"}
    if pooled not in df.columns and needs <= set(df.columns) and (metric != "roi" or "roi_low" in df.columns):
        df = add_pooled(df)
    return df, pooled if pooled in df.columns else f"{metric}{side}"
