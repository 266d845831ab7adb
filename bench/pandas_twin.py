"""The pandas twin of the dashboard's metrics: the same KPI frames, funnel, lead quality and ROI intervals computed
with pandas over lead_facts and the user tables loaded once (bench.metrics_bench times them against DuckDB and
checks they agree)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metrics import engine, page_frames, query
from metrics.costs import MetricSettings, load_settings
from metrics.filters import Filters


@dataclass
class Frames:
    """lead_facts and the user tables loaded once into pandas."""

    facts: pd.DataFrame
    partners: pd.DataFrame
    ledger: pd.DataFrame
    rules: pd.DataFrame
    margins: dict[str, float]
    account_margin: float | None
    furthest: pd.Series  # furthest stage sort reached per lead id (data_layer/derived.sql: fact_lead_stage)
    stages: pd.DataFrame  # every stage but lost: pipeline_id, status_id, name, sort
    settings: MetricSettings


def load_frames(con: duckdb.DuckDBPyConnection) -> Frames:
    """Everything the pandas implementation needs, read once."""
    facts = con.execute("select lead_id, partner_id, model, pipeline_id, utm_source, source_name, created_date, "
                        "closed_date, amount, is_won, is_qualified, close_days, client_key, has_phone, has_email, "
                        "is_lost, loss_reason from lead_facts").df()
    for col in ("created_date", "closed_date"):
        facts[col] = pd.to_datetime(facts[col])
    facts["source"] = facts["utm_source"].fillna(facts["source_name"])
    partners = con.execute("select partner_id, name, coalesce(model, 'unassigned') as model from partners").df()
    ledger = con.execute("select partner_id, month, category, cast(amount as double) as amount from cost_ledger").df()
    ledger["month"] = pd.to_datetime(ledger["month"])
    rules = con.execute("select * from commission_rules").df()
    s = load_settings(con)
    furthest = con.execute("select lead_id, max_sort from fact_lead_stage").df().set_index("lead_id")["max_sort"]
    stages = con.execute("select pipeline_id, status_id, name, sort from raw_statuses where status_id <> 143").df()
    return Frames(facts, partners, ledger, rules, dict(s.margin_models), s.margin_account, furthest, stages, s)


def _mask(df: pd.DataFrame, f: Filters) -> pd.Series:
    m = pd.Series(True, index=df.index)
    if f.partners:
        m &= df["partner_id"].isin(f.partners)
    if f.models:
        m &= df["model"].isin(f.models)
    if f.pipelines:
        m &= df["pipeline_id"].isin(f.pipelines)
    if f.sources:
        m &= df["utm_source"].isin(f.sources) | df["source_name"].isin(f.sources)
    return m


def _keys(df: pd.DataFrame, dims: tuple[str, ...], date_col: str) -> list[pd.Series]:
    keys = []
    if "partner" in dims:
        keys.append(df["partner_id"].fillna(-1).rename("partner_id"))
    if "partner" in dims or "model" in dims:
        keys.append(df["model"])
    if "month" in dims:
        keys.append(df[date_col].dt.to_period("M").dt.start_time.rename("period"))
    if not keys:
        keys.append(pd.Series(0, index=df.index, name="all"))
    return keys


def _rule_spans(fr: Frames) -> pd.DataFrame:
    """Per partner x rule: the days it rewards (own rules replace the model's on days they are in force)."""
    r = fr.rules.copy()
    r["valid_from"] = pd.to_datetime(r["valid_from"]).fillna(pd.Timestamp("1900-01-01"))
    r["valid_to"] = pd.to_datetime(r["valid_to"]).fillna(pd.Timestamp("2200-01-01"))
    own = r[r["partner_id"].notna()].assign(own=True)
    model = r[r["partner_id"].isna()].drop(columns="partner_id").merge(fr.partners[["partner_id", "model"]], on="model")
    both = pd.concat([own, model.assign(own=False)], ignore_index=True)
    out = []
    for pid, grp in both.groupby("partner_id"):
        bounds = sorted(set(grp["valid_from"]) | set(grp["valid_to"] + pd.Timedelta(days=1))
                        | {pd.Timestamp("1900-01-01")})
        for lo, hi in zip(bounds, [*bounds[1:], pd.Timestamp("2200-01-02")], strict=True):
            live = grp[(grp["valid_from"] <= lo) & (grp["valid_to"] >= lo)]
            live = live[live["own"]] if live["own"].any() else live
            for rule in live.itertuples():
                out.append((pid, rule.rule_id, rule.kind, rule.rate, rule.tiers, lo, hi - pd.Timedelta(days=1)))
    return pd.DataFrame(out, columns=["partner_id", "rule_id", "kind", "rate", "tiers", "span_from", "span_to"])


def _tiered(base: float, tiers: str) -> float:
    bands = sorted(json.loads(tiers), key=lambda t: (t["up_to"] is None, t["up_to"] or 0))
    total, lo = 0.0, 0.0
    for i, t in enumerate(bands):
        hi = None if i == len(bands) - 1 else t["up_to"]
        total += t["rate"] * max(0.0, min(base, hi if hi is not None else base) - lo)
        lo = t["up_to"] or lo
    return total


def _commissions(fr: Frames, deals: pd.DataFrame, leads: pd.DataFrame, dims: tuple[str, ...],
                 deal_date: str) -> pd.DataFrame:
    spans = _rule_spans(fr)
    out = []
    d = deals[deals["partner_id"].notna()].assign(rule_day=deals["closed_date"].fillna(deals["created_date"]))
    hits = d.merge(spans[spans["kind"] != "fixed_per_qualified_lead"], on="partner_id")
    hits = hits[(hits["rule_day"] >= hits["span_from"]) & (hits["rule_day"] <= hits["span_to"])]
    hits = hits.assign(month=hits["rule_day"].dt.to_period("M"))
    tiered = hits[hits["tiers"].notna() & (hits["kind"] == "percent_revenue")]
    eff = {}
    if len(tiered):
        won = fr.facts[fr.facts["is_won"] & fr.facts["partner_id"].isin(tiered["partner_id"].unique())]
        won = won.assign(rule_day=won["closed_date"].fillna(won["created_date"]))
        b = won.merge(spans[spans["rule_id"].isin(tiered["rule_id"].unique())], on="partner_id")
        b = b[(b["rule_day"] >= b["span_from"]) & (b["rule_day"] <= b["span_to"])]
        base = b.groupby(["partner_id", "rule_id", b["rule_day"].dt.to_period("M").rename("month")])["amount"].sum()
        tiers = spans.drop_duplicates("rule_id").set_index("rule_id")["tiers"]
        eff = {k: _tiered(v, tiers[k[1]]) / v for k, v in base.items() if v}
    rate = hits["rate"].to_numpy(dtype=float)
    if eff:
        keys = list(zip(hits["partner_id"], hits["rule_id"], hits["month"], strict=True))
        tier_rate = np.array([eff.get(k, np.nan) for k in keys])
        rate = np.where(np.isnan(tier_rate), rate, tier_rate)
    amount = np.where(hits["kind"] == "percent_revenue", hits["amount"].to_numpy() * rate, rate)
    out.append(pd.DataFrame({"amount": amount, "rule_id": hits["rule_id"], "lead_id": hits["lead_id"]},
                            index=hits.index).join(pd.concat(_keys(hits, dims, deal_date), axis=1)))
    q = leads[leads["partner_id"].notna() & leads["is_qualified"]]
    lh = q.merge(spans[spans["kind"] == "fixed_per_qualified_lead"], on="partner_id")
    lh = lh[(lh["created_date"] >= lh["span_from"]) & (lh["created_date"] <= lh["span_to"])]
    out.append(pd.DataFrame({"amount": lh["rate"].to_numpy(dtype=float), "rule_id": lh["rule_id"],
                             "lead_id": lh["lead_id"]}, index=lh.index).join(
        pd.concat(_keys(lh, dims, "created_date"), axis=1)))
    return pd.concat(out, ignore_index=True)


def _ledger(fr: Frames, f: Filters, dims: tuple[str, ...]) -> pd.DataFrame:
    days = pd.DataFrame({"day": pd.date_range(f.date_from, f.date_to, freq="D")})
    days["month"] = days["day"].dt.to_period("M").dt.start_time
    cal = days.groupby("month").size().rename("n").reset_index()
    led = fr.ledger.merge(fr.partners[["partner_id", "model"]], on="partner_id", how="left")
    led["model"] = led["model"].fillna("unassigned")
    led = led[_mask(led.assign(pipeline_id=0, utm_source=None, source_name=None), replace(f, pipelines=(), sources=()))]
    led = led.merge(cal, on="month")
    led["amount"] = led["amount"] * led["n"] / led["month"].dt.days_in_month
    led["period"] = led["month"]
    return pd.concat([led[["amount"]], pd.concat(_keys(led.assign(created_date=led["month"]), dims, "created_date"),
                                                 axis=1)], axis=1)


def pandas_kpis(fr: Frames, f: Filters, dims: tuple[str, ...] = (), lite: bool = False) -> pd.DataFrame:
    """The KPI rows of engine.grouped() computed with pandas (no pipeline / source grouping; lite: no client
    metrics and no median days to close, as engine.kpis_many's lite frames)."""
    df = fr.facts
    lo, hi = pd.Timestamp(f.date_from), pd.Timestamp(f.date_to)
    mask = _mask(df, f)
    leads = df[mask & df["created_date"].between(lo, hi)]
    deal_date = "closed_date" if f.view == "close" else "created_date"
    deals = df[mask & df["is_won"] & df[deal_date].between(lo, hi)]
    lk, dk = _keys(leads, dims, "created_date"), _keys(deals, dims, deal_date)
    names = [k.name for k in lk]
    la = leads.groupby(lk, dropna=False).agg(leads=("lead_id", "size"), qualified_leads=("is_qualified", "sum"),
                                             cohort_won=("is_won", "sum"))
    margin = deals["model"].map(fr.margins).fillna(fr.account_margin if fr.account_margin is not None else 1.0)
    late = deals["closed_date"].isna() | (deals["closed_date"] > hi)
    dd = deals.assign(income=deals["amount"] * margin, late_n=late.astype(int), late_rev=deals["amount"].where(late, 0))
    aggs = {"won_deals": ("lead_id", "size"), "revenue": ("amount", "sum"), "income": ("income", "sum"),
            "late_n": ("late_n", "sum"), "late_rev": ("late_rev", "sum")}
    if not lite:
        aggs["time_to_close_days"] = ("close_days", "median")
    da = dd.groupby(dk, dropna=False).agg(**aggs)
    if lite:
        nc = pd.Series(dtype="float64", name="new_clients")
        life = pd.DataFrame({"size": pd.Series(dtype="float64"), "sum": pd.Series(dtype="float64")})
    else:
        clients = pd.concat([*dk, deals["client_key"]], axis=1).drop_duplicates()
        nc = clients.groupby(names, dropna=False).size().rename("new_clients")
        life_src = df[df["is_won"] & (df["closed_date"] <= hi)][["client_key", "amount"]]
        life = clients.merge(life_src, on="client_key").groupby(names, dropna=False)["amount"].agg(["size", "sum"])
    led = _ledger(fr, f, dims).groupby(names, dropna=False)["amount"].sum().rename("costs_ledger")
    com = _commissions(fr, deals, leads, dims, deal_date).groupby(names, dropna=False)["amount"].sum().rename("costs_commission")
    out = pd.concat([la, da, nc, life, led, com], axis=1).fillna(0.0)
    out["costs"] = out["costs_ledger"] + out["costs_commission"]
    out["conversion"] = out["cohort_won"] / out["leads"].where(out["leads"] > 0)
    out["avg_check"] = out["revenue"] / out["won_deals"].where(out["won_deals"] > 0)
    out["profit"] = out["income"] - out["costs"]
    out["roi"] = out["profit"] / out["costs"].where(out["costs"] != 0)
    out["cpa"] = out["costs"] / out["new_clients"].where(out["new_clients"] > 0)
    nc_ = out["new_clients"].where(out["new_clients"] > 0)
    out["purchases_per_client"] = (out["size"] + out["late_n"]) / nc_
    out["ltv"] = (out["sum"] + out["late_rev"]) / nc_ - out["cpa"]
    lo_, hi_ = zip(*(_wilson(w, n) for w, n in zip(out["cohort_won"], out["leads"], strict=True)), strict=True) \
        if len(out) else ((), ())
    out["conversion_low"], out["conversion_high"] = lo_, hi_
    return out.reset_index()


def _wilson(w: float, n: float) -> tuple[float, float]:
    from metrics.stats import wilson
    lo, hi = wilson(int(w), int(n))
    return (np.nan if lo is None else lo, np.nan if hi is None else hi)


def pd_partner_vs_direct(fr: Frames, f: Filters) -> pd.DataFrame:
    k = pandas_kpis(fr, f, ("model",))
    df = fr.facts
    lo, hi = pd.Timestamp(f.date_from), pd.Timestamp(f.date_to)
    p = df[df["partner_id"].notna() & df["created_date"].between(lo, hi)]
    won = p[p["is_won"]]
    return pd.concat([k, pd.DataFrame([{"model": "partners", "leads": len(p), "won_deals": len(won),
                                        "time_to_close_days": won["close_days"].median()}])])


def pd_partner_commissions(fr: Frames, f: Filters, pid: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A partner's won deals in scope with their commission, and its commission per rule (as the engine)."""
    df = fr.facts
    lo, hi = pd.Timestamp(f.date_from), pd.Timestamp(f.date_to)
    mine = df[df["partner_id"] == pid]
    leads = mine[mine["created_date"].between(lo, hi)]
    deals = mine[mine["is_won"] & mine["created_date"].between(lo, hi)]
    hits = _commissions(fr, deals, leads, ("partner",), "created_date")
    per_lead = hits.groupby("lead_id")["amount"].sum()
    listed = deals.assign(commission=deals["lead_id"].map(per_lead).fillna(0.0))
    per_rule = hits.groupby("rule_id")["amount"].agg(["size", "sum"])
    return listed.sort_values("created_date", ascending=False), per_rule


def pd_funnel(fr: Frames, f: Filters) -> pd.DataFrame:
    """Leads of the period per pipeline and stage that reached it (furthest stage, else the first), as engine.funnel."""
    df = fr.facts
    leads = df[_mask(df, f) & df["created_date"].between(pd.Timestamp(f.date_from), pd.Timestamp(f.date_to))]
    stages = fr.stages[fr.stages["pipeline_id"].isin(leads["pipeline_id"].unique())]
    first = stages.groupby("pipeline_id")["sort"].min()
    sort = leads["lead_id"].map(fr.furthest).fillna(leads["pipeline_id"].map(first))
    hist = pd.DataFrame({"pipeline_id": leads["pipeline_id"], "max_sort": sort}).value_counts()
    rows = []
    for st_ in stages.sort_values(["pipeline_id", "sort"]).itertuples():
        mine = hist[hist.index.get_level_values(0) == st_.pipeline_id]
        total = int(mine.sum())
        reached = int(mine[mine.index.get_level_values(1) >= st_.sort].sum())
        rows.append((st_.pipeline_id, st_.name, reached, total, reached / total if total else None))
    return pd.DataFrame(rows, columns=["pipeline_id", "stage", "reached", "leads", "share"])


def pd_quality(fr: Frames, f: Filters) -> pd.DataFrame:
    """Lead quality of the period's leads (one group): shares and score, as engine.quality(by="none")."""
    df = fr.facts
    leads = df[_mask(df, f) & df["created_date"].between(pd.Timestamp(f.date_from), pd.Timestamp(f.date_to))]
    junk = {query.norm_name(x) for x in fr.settings.junk_reasons}
    lost_reason = leads["loss_reason"].where(leads["is_lost"].fillna(False).astype(bool))
    shares = {"phone_share": leads["has_phone"].fillna(False).astype(float).mean(),
              "email_share": leads["has_email"].fillna(False).astype(float).mean(),
              "qualified_share": leads["is_qualified"].fillna(False).astype(float).mean(),
              "junk_share": lost_reason.map(lambda r: isinstance(r, str) and query.norm_name(r) in junk).mean()}
    score = sum(fr.settings.weight(k) * shares[f"{k}_share"] for k in ("phone", "email", "qualified"))
    return pd.DataFrame([{"leads": len(leads), "quality_score": score, **shares}])


def pd_roi_interval(fr: Frames, f: Filters) -> list[Any]:
    from metrics.stats import RoiSample, roi_bootstrap
    k = pandas_kpis(fr, f, ("partner",))
    df = fr.facts
    lo, hi = pd.Timestamp(f.date_from), pd.Timestamp(f.date_to)
    scope = df[df["created_date"].between(lo, hi)]
    out = []
    for i, (pid, grp) in enumerate(scope.groupby(scope["partner_id"].fillna(-1))):
        won = grp[grp["is_won"]]["amount"].to_numpy(dtype=float)
        fixed = float(k.loc[k["partner_id"] == pid, "costs"].sum())
        out.append(roi_bootstrap(RoiSample(len(grp), fixed, won, np.zeros_like(won)), 1000, i))
    return out


def pd_frames(fr: Frames, requests: tuple[page_frames.Request, ...]) -> list[pd.DataFrame]:
    return [pandas_kpis(fr, r[0], engine.frame_dims(r[1]), lite=len(r) > 2) for r in requests]
