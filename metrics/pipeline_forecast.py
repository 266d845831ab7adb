"""Expected revenue from open deals: win probability by stage (and partner/model) x amount, with P10/P50/P90.

Win probability of an open deal at stage S = share of leads that once stood at S and were later won,
among leads closed in the look-back window (open leads are left out: their outcome is unknown).
Estimates are pooled from coarse to fine so that small samples borrow strength (empirical Bayes):

    pipeline rate  ->  stage (pulled toward the pipeline by STAGE_PRIOR pseudo-leads)
                   ->  model at that stage (pulled toward the stage by PRIOR_STRENGTH pseudo-leads)
                   ->  partner at that stage (pulled toward its model the same way)

A Monte Carlo run draws each cell's win rate from its Beta posterior (deals of one cell share the draw),
then each deal's win (Bernoulli), and sums the amounts won: P10/P50/P90 of the pipeline's revenue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from metrics import sql
from metrics.filters import Filters

PRIOR_STRENGTH = 20.0   # pseudo-leads pulling a model's or partner's stage rate toward its parent
STAGE_PRIOR = 5.0       # pseudo-leads pulling a stage rate toward its pipeline's overall win rate
LOOKBACK_DAYS = 365
N_SIMS = 2000
EXACT_MAX = 64          # cells with more deals use the normal approximation of the sum of wins
SEED = 11
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
BY = ("model", "partner")


@dataclass(frozen=True)
class PipelineForecast:
    """Open deals with their win probability, summaries by stage and group, and the total's spread."""

    deals: pd.DataFrame       # one row per open deal: ... amount, p_win, expected
    by_stage: pd.DataFrame    # pipeline_id, stage, stage_sort, deals, amount, history, p_stage, expected
    by_group: pd.DataFrame    # group, label, model, deals, amount, expected, p10, p50, p90
    total: dict[str, float]   # deals, amount, expected, p10, p50, p90, without_amount
    hist_from: date
    hist_to: date
    closed: int               # closed leads the probabilities were learnt from


def _params(f: Filters) -> dict[str, object]:
    """Bound parameters shared by the pipeline queries."""
    return {"partners": [int(p) for p in f.partners], "models": list(f.models),
            "pipelines": [int(p) for p in f.pipelines], "sources": [str(s) for s in f.sources],
            "date_from": f.date_from, "date_to": f.date_to}


def _run(con: duckdb.DuckDBPyConnection, name: str, values: dict[str, object]) -> pd.DataFrame:
    """Execute one named query of metrics/sql with the parameters it uses."""
    text = sql.load(name)
    return con.execute(text, sql.params(text, values)).df()


def _pool(won: pd.Series, n: pd.Series, prior: pd.Series, strength: float) -> tuple[pd.Series, pd.Series]:
    """Beta posterior (a, b) of a rate: observed wins/losses plus `strength` pseudo-leads at the prior."""
    won, n, prior = won.fillna(0.0), n.fillna(0.0), prior.astype(float)
    return won + strength * prior, (n - won) + strength * (1 - prior)


def stage_rates(history: pd.DataFrame, rates: pd.DataFrame, stage_prior: float = STAGE_PRIOR) -> pd.DataFrame:
    """Per pipeline x stage: reached, won, the pipeline's base rate and the pooled stage rate p_stage."""
    base = rates.assign(p_base=(rates["won"] + 1.0) / (rates["closed"] + 2.0))[["pipeline_id", "p_base"]]
    stage = history.groupby(["pipeline_id", "status_id"], as_index=False)[["reached", "won"]].sum()
    stage = stage.merge(base, on="pipeline_id", how="left")
    stage["p_base"] = stage["p_base"].fillna(0.5)
    a, b = _pool(stage["won"], stage["reached"], stage["p_base"], stage_prior)
    return stage.assign(p_stage=a / (a + b))


def win_probabilities(deals: pd.DataFrame, history: pd.DataFrame, rates: pd.DataFrame,
                      strength: float = PRIOR_STRENGTH, stage_prior: float = STAGE_PRIOR) -> pd.DataFrame:
    """Add a, b (Beta posterior of the deal's cell), p_win and expected (= p_win x amount) to open deals."""
    keys = ["pipeline_id", "status_id"]
    stages = stage_rates(history, rates, stage_prior)
    models = history.groupby([*keys, "model"], as_index=False)[["reached", "won"]].sum()
    partners = history[history["partner_id"].notna()].groupby([*keys, "partner_id"], as_index=False)[
        ["reached", "won"]].sum()
    out = deals.merge(stages[[*keys, "p_stage"]], on=keys, how="left")
    base = rates.assign(p_base=(rates["won"] + 1.0) / (rates["closed"] + 2.0))[["pipeline_id", "p_base"]]
    out = out.merge(base, on="pipeline_id", how="left")
    fallback = out["p_base"].fillna((rates["won"].sum() + 1.0) / (rates["closed"].sum() + 2.0))
    out["p_stage"] = out["p_stage"].fillna(fallback)  # a stage nobody closed from: the pipeline's rate
    out = out.merge(models.rename(columns={"reached": "n_model", "won": "w_model"}), on=[*keys, "model"], how="left")
    a, b = _pool(out["w_model"], out["n_model"], out["p_stage"], strength)
    out["p_model"] = a / (a + b)
    out = out.merge(partners.rename(columns={"reached": "n_partner", "won": "w_partner"}),
                    on=[*keys, "partner_id"], how="left")
    pa, pb = _pool(out["w_partner"], out["n_partner"], out["p_model"], strength)
    is_partner = out["partner_id"].notna()
    out["a"] = np.where(is_partner, pa, a)
    out["b"] = np.where(is_partner, pb, b)
    out["p_win"] = out["a"] / (out["a"] + out["b"])
    out["expected"] = out["p_win"] * out["amount"]
    return out.drop(columns=["p_base", "n_model", "w_model", "n_partner", "w_partner"])


def _cell_revenue(amounts: np.ndarray, a: float, b: float, rng: np.random.Generator, n_sims: int) -> np.ndarray:
    """Simulated revenue won from one cell's deals (shared win-rate draw, Bernoulli wins)."""
    p = rng.beta(a, b, size=n_sims)
    if len(amounts) <= EXACT_MAX:
        wins = rng.random((n_sims, len(amounts))) < p[:, None]
        return wins.astype(float) @ amounts
    total, square = float(amounts.sum()), float((amounts ** 2).sum())
    draw = p * total + np.sqrt(p * (1 - p) * square) * rng.standard_normal(n_sims)
    return np.clip(draw, 0.0, total)


def simulate(deals: pd.DataFrame, group_col: str, n_sims: int = N_SIMS, seed: int = SEED) -> dict[str, np.ndarray]:
    """Simulated revenue per group and for the total ("__total__"), n_sims draws each."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {"__total__": np.zeros(n_sims)}
    cells = deals.groupby(["pipeline_id", "status_id", group_col, "a", "b"], dropna=False, sort=True)
    for (_, _, group, a, b), rows in cells:
        revenue = _cell_revenue(rows["amount"].to_numpy(dtype=float), float(a), float(b), rng, n_sims)
        key = str(group)
        out[key] = out.get(key, np.zeros(n_sims)) + revenue
        out["__total__"] += revenue
    return out


def _spread(draws: np.ndarray) -> dict[str, float]:
    return {name: float(np.quantile(draws, q)) for name, q in QUANTILES.items()}


def _group_keys(deals: pd.DataFrame, by: str) -> pd.DataFrame:
    """Group key and label per deal: the model, or the partner (direct deals grouped as 'direct')."""
    deals = deals.copy()
    if by == "partner":
        is_partner = deals["partner_id"].notna()
        deals["group"] = np.where(is_partner, deals["partner_id"].astype("Int64").astype(str), "direct")
        deals["label"] = np.where(is_partner, deals["partner"].astype(str), "direct")
    else:
        deals["group"] = deals["label"] = deals["model"].astype(str)
    return deals


def summarise(deals: pd.DataFrame, stages: pd.DataFrame, by: str = "model", n_sims: int = N_SIMS,
              seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """(by_stage, by_group, total) tables from deals that carry a, b, p_win and expected."""
    deals = _group_keys(deals, by)
    sims = simulate(deals, "group", n_sims, seed)
    groups = deals.groupby(["group", "label", "model"], as_index=False).agg(
        deals=("lead_id", "count"), amount=("amount", "sum"), expected=("expected", "sum"))
    spread = pd.DataFrame([{"group": g, **_spread(sims[g])} for g in groups["group"]],
                          columns=["group", *QUANTILES])
    by_group = groups.merge(spread, on="group", how="left").sort_values("expected", ascending=False,
                                                                       ignore_index=True)
    by_stage = deals.groupby(["pipeline_id", "status_id", "stage", "stage_sort"], as_index=False, dropna=False).agg(
        deals=("lead_id", "count"), amount=("amount", "sum"), expected=("expected", "sum"))
    by_stage = by_stage.merge(stages[["pipeline_id", "status_id", "reached", "p_stage"]],
                              on=["pipeline_id", "status_id"], how="left").rename(columns={"reached": "history"})
    by_stage["history"] = by_stage["history"].fillna(0).astype("int64")
    by_stage = by_stage.sort_values(["pipeline_id", "stage_sort"], ignore_index=True)
    total = {"deals": float(len(deals)), "amount": float(deals["amount"].sum()),
             "expected": float(deals["expected"].sum()), **_spread(sims["__total__"]),
             "without_amount": float((deals["amount"] <= 0).sum())}
    return by_stage, by_group, total


def pipeline_forecast(con: duckdb.DuckDBPyConnection, f: Filters, by: str = "model",
                      lookback_days: int = LOOKBACK_DAYS, n_sims: int = N_SIMS, seed: int = SEED,
                      strength: float = PRIOR_STRENGTH) -> PipelineForecast:
    """Expected revenue of the open deals created in the period, with P10/P50/P90, from the database."""
    if by not in BY:
        raise ValueError(f"Unknown grouping {by!r}: use {', '.join(BY)}.")
    hist_to = f.date_to
    hist_from = hist_to - timedelta(days=lookback_days - 1)
    values = {**_params(f), "hist_from": hist_from, "hist_to": hist_to}
    history = _run(con, "forecast_stage_history", values)
    rates = _run(con, "forecast_pipeline_rates", values)
    open_deals = _run(con, "forecast_open_deals", values)
    deals = win_probabilities(open_deals, history, rates, strength)
    stages = stage_rates(history, rates)
    by_stage, by_group, total = summarise(deals, stages, by, n_sims, seed)
    return PipelineForecast(deals, by_stage, by_group, total, hist_from, hist_to, int(rates["closed"].sum()))
