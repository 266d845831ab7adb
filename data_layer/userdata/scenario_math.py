"""What-if maths on plain frames (no database): scenario ledger rows over a period, and rule-table edits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from data_layer.userdata.errors import UserDataError
from data_layer.userdata.parse import is_blank, norm_name, to_amount, to_date, to_month
from data_layer.userdata.rules import parse_tiers, tier_kind_of, tiers_json

SCENARIO_LEDGER_COLUMNS = ["partner_id", "month", "category", "amount"]


def _months(date_from: date, date_to: date) -> list[tuple[date, int, int]]:
    """(first day, days in month, days of the period inside it) for every month the period touches."""
    out = []
    month = date(date_from.year, date_from.month, 1)
    while month <= date_to:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        days = (following - month).days
        covered = (min(following, date_to + timedelta(days=1)) - max(month, date_from)).days
        out.append((month, days, covered))
        month = following
    return out


def merge_ledger(actual: pd.DataFrame, overrides: pd.DataFrame | None) -> pd.DataFrame:
    """The actual ledger with scenario rows replacing the same partner x month x category."""
    base = actual[SCENARIO_LEDGER_COLUMNS].copy()
    base["month"] = base["month"].map(to_month)
    if overrides is None or overrides.empty:
        return base.reset_index(drop=True)
    over = overrides[SCENARIO_LEDGER_COLUMNS].copy()
    over["month"] = over["month"].map(to_month)
    keys = set(zip(over["partner_id"].astype(int), over["month"], over["category"], strict=True))
    keep = [(int(p), m, c) not in keys for p, m, c in zip(base["partner_id"], base["month"], base["category"],
                                                           strict=True)]
    merged = pd.concat([base[keep], over], ignore_index=True)
    merged["partner_id"] = merged["partner_id"].astype("int64")
    merged["amount"] = merged["amount"].astype(float)
    return merged


def period_totals(ledger: pd.DataFrame, date_from: date, date_to: date) -> pd.DataFrame:
    """What the ledger counts in a period per partner x category (each month's amount x days covered / days)."""
    shares = {m: covered / days for m, days, covered in _months(date_from, date_to)}
    rows = ledger[SCENARIO_LEDGER_COLUMNS].copy()
    rows["month"] = rows["month"].map(to_month)
    rows = rows[rows["month"].isin(shares)]
    rows["amount"] = rows["amount"].astype(float) * rows["month"].map(shares).astype(float)
    out = rows.groupby(["partner_id", "category"], as_index=False)["amount"].sum()
    return out.astype({"partner_id": "int64", "amount": "float64"})


def ledger_for_totals(ledger: pd.DataFrame, date_from: date, date_to: date,
                      targets: pd.DataFrame) -> pd.DataFrame:
    """Month rows that make the period total of each partner x category equal its target.

    Existing months are scaled by one factor (so the monthly pattern stays); a category with nothing yet is
    spread over the period's months in proportion to the days it covers. Only changed totals give rows.
    """
    months = _months(date_from, date_to)
    covered_total = sum(c for _, _, c in months)
    current = period_totals(ledger, date_from, date_to).set_index(["partner_id", "category"])["amount"]
    rows: list[dict[str, Any]] = []
    for target in targets.to_dict("records"):
        pid, category = int(target["partner_id"]), str(target["category"])
        goal = to_amount(target["amount"])
        now = float(current.get((pid, category), 0.0))
        if abs(goal - now) < 0.005:
            continue
        if now > 0:
            factor = goal / now
            mine = ledger[(ledger["partner_id"] == pid) & (ledger["category"] == category)]
            for r in mine.to_dict("records"):
                month = to_month(r["month"])
                if any(month == m for m, _, _ in months):
                    rows.append({"partner_id": pid, "month": month, "category": category,
                                 "amount": round(float(r["amount"]) * factor, 2)})
        else:
            for month, days, covered in months:
                if covered:
                    rows.append({"partner_id": pid, "month": month, "category": category,
                                 "amount": round(goal * days / covered_total, 2)})
    return pd.DataFrame(rows, columns=SCENARIO_LEDGER_COLUMNS)


def combine_overrides(first: pd.DataFrame | None, second: pd.DataFrame | None) -> pd.DataFrame | None:
    """Scenario ledger rows of first, replaced / extended by those of second."""
    if first is None or first.empty:
        return None if second is None or second.empty else second[SCENARIO_LEDGER_COLUMNS].reset_index(drop=True)
    if second is None or second.empty:
        return first[SCENARIO_LEDGER_COLUMNS].reset_index(drop=True)
    return merge_ledger(first, second)


def rules_in_percent(rules: pd.DataFrame) -> pd.DataFrame:
    """Rules as editors show them: a percent-of-revenue rate in percent (0.1 -> 10), fixed rates unchanged."""
    out = rules.copy()
    rate = pd.to_numeric(out["rate"], errors="coerce").astype(float)
    out["rate"] = rate.where(out["kind"] != "percent_revenue", rate * 100).round(6)
    return out


def rules_from_percent(rules: pd.DataFrame) -> pd.DataFrame:
    """Inverse of rules_in_percent: percent back to a fraction (validation then checks 0…100 %)."""
    out = rules.copy()
    rate = pd.to_numeric(out["rate"], errors="coerce").astype(float)
    out["rate"] = rate.where(out["kind"] != "percent_revenue", rate / 100)
    return out


RULE_EDIT_COLUMNS = ["rule_id", "model", "partner", "kind", "rate", "tiers", "valid_from", "valid_to", "tier_kind"]


def _rule_key(row: Mapping[str, Any]) -> tuple:
    """A rule's content, comparable across editor and stored shapes."""
    tiers = row.get("tiers")
    try:
        tiers = tiers_json(parse_tiers(tiers))
    except UserDataError:
        tiers = str(tiers)
    rate = row.get("rate")
    partner = row.get("partner")
    return (None if is_blank(row.get("model")) else str(row.get("model")),
            None if is_blank(partner) else norm_name(str(partner)),
            str(row.get("kind")), None if is_blank(rate) else round(float(rate), 9), tiers,
            to_date(row.get("valid_from")), to_date(row.get("valid_to")), tier_kind_of(row.get("tier_kind")))


def same_rules(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """True when two rule tables hold the same rules (ids, order and blank editor rows ignored)."""
    def keys(df: pd.DataFrame) -> list[tuple]:
        rows = [r for r in df.to_dict("records") if not all(
            is_blank(r.get(c)) for c in ("model", "partner", "kind", "rate", "tiers"))]
        return sorted((_rule_key(r) for r in rows), key=repr)
    return keys(a) == keys(b)


def set_percent_rate(rules: pd.DataFrame, rate: float, model: str | None = None, partner: str | None = None,
                     partner_model: str | None = None) -> pd.DataFrame:
    """Rules with one model's or one partner's percent-of-revenue rate set (tiers cleared).

    A partner without rules of its own first gets copies of its model's rules, because a partner's rules
    replace its model's: the other rewards of the model keep applying to it.
    """
    out = rules.reindex(columns=RULE_EDIT_COLUMNS).astype(object).reset_index(drop=True)
    blank_partner = out["partner"].map(is_blank)
    if model is not None:
        mask = (out["model"] == model) & blank_partner & (out["kind"] == "percent_revenue")
        new = {"model": model, "partner": None}
    else:
        own = out["partner"].map(lambda p: not is_blank(p) and norm_name(str(p)) == norm_name(str(partner)))
        if not own.any() and partner_model:
            copies = out[(out["model"] == partner_model) & blank_partner].copy()
            copies["partner"], copies["model"], copies["rule_id"] = partner, None, None
            out = pd.concat([out, copies], ignore_index=True)
            own = out["partner"].map(lambda p: not is_blank(p) and norm_name(str(p)) == norm_name(str(partner)))
        mask = own & (out["kind"] == "percent_revenue")
        new = {"model": None, "partner": partner}
    if mask.any():
        out.loc[mask, "rate"] = rate
        out.loc[mask, "tiers"] = None
    else:
        out = pd.concat([out, pd.DataFrame([{**new, "kind": "percent_revenue", "rate": rate}])],
                        ignore_index=True)
    return out.reindex(columns=RULE_EDIT_COLUMNS)
