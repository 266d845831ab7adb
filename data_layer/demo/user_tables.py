"""The user's side of the demo: partner cards, cost ledger, commission rules, settings, meta, run record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd

from data_layer import store, userdata
from data_layer.demo.account import ACCOUNT_NAME, PARTNER_MANAGERS
from data_layer.demo.cast import SPECS, PartnerSpec
from data_layer.demo.generate import Stats
from data_layer.demo.plan import MONTHS, Plan, add_months

SCALE_LEADS = 20_000      # the default size; fixed costs scale with n_leads / SCALE_LEADS
# Commission rules the demo ships with; partners of a model without a rule get ledger 'commission' rows.
REFERRAL_PER_QUALIFIED = 1_500.0
SALES_TIERS = [{"up_to": 1_000_000, "rate": 0.10}, {"up_to": None, "rate": 0.15}]
OVERRIDE_PARTNER, OVERRIDE_RATE = "ТехСервис Плюс", 0.12
CATEGORY_WEIGHTS = {
    "referral": {"marketing": 0.45, "bonus": 0.25, "other": 0.15, "support": 0.15},
    "sales": {"bonus": 0.30, "training": 0.20, "marketing": 0.25, "support": 0.15, "other": 0.10},
    "service": {"training": 0.35, "support": 0.30, "bonus": 0.15, "other": 0.10, "marketing": 0.10},
}
CATEGORY_NOTES = {"commission": "Вознаграждение по договору", "training": "Обучение менеджеров партнёра",
                  "marketing": "Совместный маркетинг", "bonus": "Бонус за выполнение плана",
                  "support": "Техподдержка и сопровождение", "other": "Прочие расходы"}


def _aliases(spec: PartnerSpec, taken: set[str]) -> list[str]:
    """The partner's UTM slug and its name without legal form and quotes, when those are free."""
    short = spec.name
    for prefix in ("ООО ", "ГК ", "ИП "):
        short = short.removeprefix(prefix)
    short = short.replace("«", "").replace("»", "").strip()
    out = []
    for alias in (spec.slug, short):
        key = userdata.norm_name(alias)
        if key not in taken:
            taken.add(key)
            out.append(alias)
    return out


def _partner_start(plan: Plan, i: int, spec: PartnerSpec) -> date:
    """When the partnership began: new partners in their first month, the others before the range."""
    if spec.start_offset:
        return add_months(plan.start_date, MONTHS - spec.start_offset)
    return add_months(plan.start_date, -(3 + (i * 7) % 19)).replace(day=1 + (i * 5) % 27)


def _setup_partners(con: duckdb.DuckDBPyConnection, plan: Plan) -> dict[str, int]:
    """Register partners from the CRM, then fill what a user would: manager, start, aliases, some models."""
    # Registered in a fixed order first so partner ids do not depend on how DuckDB orders a parallel
    # aggregate; ensure_partners_from_crm then fills each model from the CRM field, as after a sync.
    for spec in SPECS:
        con.execute("insert into partners (name) values (?)", [spec.name])
    store.ensure_partners_from_crm(con)
    ids = dict(con.execute("select name, partner_id from partners").fetchall())
    crm_models = dict(con.execute("select name, model from partners").fetchall())
    taken = {userdata.norm_name(s.name) for s in SPECS}
    for i, spec in enumerate(SPECS):
        con.execute(
            "update partners set manager = ?, start_date = ?, aliases = ?, active = ?, "
            "updated_at = current_timestamp where partner_id = ?",
            [PARTNER_MANAGERS[i % 2], _partner_start(plan, i, spec), _aliases(spec, taken),
             not spec.end_offset, ids[spec.name]])
        if crm_models[spec.name] != spec.model:  # the CRM label is wrong or missing: the user set the model
            con.execute("update partners set model = ?, model_source = 'user' where partner_id = ?",
                        [spec.model, ids[spec.name]])
    return ids


def _tiered(monthly_revenue: np.ndarray) -> np.ndarray:
    """Commission of the sales rule on each month's revenue (10 % up to 1 M, 15 % above)."""
    low = np.minimum(monthly_revenue, SALES_TIERS[0]["up_to"])
    return low * SALES_TIERS[0]["rate"] + (monthly_revenue - low) * SALES_TIERS[1]["rate"]


def _rule_commission(spec: PartnerSpec, p: int, stats: Stats) -> float | None:
    """Commission the shipped rules compute for a partner over the range (None = no rule applies)."""
    if spec.name == OVERRIDE_PARTNER:
        return OVERRIDE_RATE * float(stats.revenue_closed[p].sum())
    if spec.model == "referral":
        return REFERRAL_PER_QUALIFIED * float(stats.qualified[p].sum())
    if spec.model == "sales":
        return float(_tiered(stats.revenue_closed[p]).sum())
    return None


def _ledger_frame(plan: Plan, stats: Stats, ids: dict[str, int]) -> pd.DataFrame:
    """Monthly costs per partner and category, sized so that each partner lands near its intended ROI.

    Total cost = revenue / (1 + intended ROI); what the rules already compute as commission is taken off,
    the rest is spread over the partner's active months (half evenly, half by lead volume) and categories.
    """
    rng = np.random.default_rng([plan.seed, 1_000_003])
    scale = plan.n / SCALE_LEADS
    rows = []
    for i, spec in enumerate(SPECS):
        p = i + 1
        months = [m for m in range(MONTHS) if plan.active[m, p]]
        revenue = float(stats.revenue[p].sum())
        fixed = (3_000 if spec.tiny else 20_000 * scale) * len(months)
        target = revenue / (1 + spec.roi) if revenue > 0 else fixed
        commission = _rule_commission(spec, p, stats)
        total = max(target - (commission or 0.0), 0.15 * target)
        weights = dict(CATEGORY_WEIGHTS[spec.model])
        if commission is None:  # no rule for this partner: its commission is booked in the ledger
            weights = {"commission": 0.5, **{k: v * 0.5 for k, v in weights.items()}}
        volume = stats.leads[p, months]
        by_month = 0.5 / len(months) + 0.5 * (volume / volume.sum() if volume.sum() else 1 / len(months))
        grid = np.outer(by_month, list(weights.values())) * rng.lognormal(0, 0.25, (len(months), len(weights)))
        amounts = np.maximum(100.0, np.round(grid / grid.sum() * total / 100) * 100)
        for mi, m in enumerate(months):
            for ci, cat in enumerate(weights):
                rows.append({"partner_id": ids[spec.name], "month": add_months(plan.start_date, m),
                             "category": cat, "amount": float(amounts[mi, ci]), "note": CATEGORY_NOTES[cat]})
    return pd.DataFrame(rows)


def _write_rules(con: duckdb.DuckDBPyConnection, plan: Plan, ids: dict[str, int]) -> int:
    """Commission rules: referral per qualified lead, tiered sales percent, one partner override."""
    since = plan.start_date
    userdata.add_rule(con, "fixed_per_qualified_lead", REFERRAL_PER_QUALIFIED, model="referral", valid_from=since)
    userdata.add_rule(con, "percent_revenue", SALES_TIERS[0]["rate"], model="sales", tiers=SALES_TIERS,
                      valid_from=since)
    userdata.add_rule(con, "percent_revenue", OVERRIDE_RATE, partner_id=ids[OVERRIDE_PARTNER], valid_from=since)
    # the rules have been in force since the data begin: their audit rows say so, or every chart would mark a
    # "new commission rule" event on the day the demo was built (metrics.events reads rule changes from the log)
    con.execute("update audit_log set happened_at = ? where entity = 'commission_rules'", [since])
    return 3


def write_user_data(con: duckdb.DuckDBPyConnection, plan: Plan, stats: Stats, seconds: float) -> dict[str, int]:
    """Partners, ledger, rules, settings, meta and the run record, in one transaction."""
    con.execute("begin")
    try:
        ids = _setup_partners(con, plan)
        ledger_rows = userdata.upsert_ledger(con, _ledger_frame(plan, stats, ids))
        rules = _write_rules(con, plan, ids)
        userdata.set_setting(con, "min_leads", 30)
        now = datetime.now(UTC)
        store.set_meta(con, "source", "demo")
        store.set_meta(con, "account_name", ACCOUNT_NAME)
        store.set_meta(con, "demo_end_date", plan.end_date.isoformat())  # the payout history's months follow it
        store.set_meta(con, "last_sync_at", now.isoformat(timespec="seconds"))
        store.set_meta(con, "last_sync_status", "ok")
        con.execute(
            "insert into sync_runs (started_at, finished_at, mode, status, requests, throttled, seconds, message) "
            "values (?, ?, 'demo', 'ok', 0, 0, ?, ?)",
            [(now - timedelta(seconds=seconds)).replace(tzinfo=None), now.replace(tzinfo=None), seconds,
             f"demo: {plan.n} leads, seed {plan.seed}, up to {plan.end_date.isoformat()}"])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return {"partners": len(ids), "ledger_rows": ledger_rows, "rules": rules}
