"""The commission-rules table of the costs page and of the what-if page: one editor, rates typed the UI
language's way ("12,5" is 12.5 % in Russian), each percent rule's tiers edited as rows below (ui.tiers_editor).

A percent-of-revenue rate is shown and typed in percent, a fixed reward as an amount; what comes back is in
storage units (fractions), ready for `userdata.validate_rules`, with the sentences of anything mistyped.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import KINDS, MODELS
from presentation import fmt
from ui.i18n import lang, model_label, tr
from ui.number_entry import EntryError, percent_text, read_amount, read_percent
from ui.tiers_editor import PERCENT, edit_tiers

TEXT = {
    "ru": {
        "col.model": "Модель", "col.partner": "Партнёр", "col.kind": "Вид", "col.rate": "Ставка (% или сумма)",
        "col.from": "Действует с", "col.to": "Действует по",
        "help.rate": "Для «% от выручки» — процент (12,5 = 12,5 %), для фиксированных — сумма в {sign}. "
                     "У правила со ступенями ставку можно не указывать.",
        "kind.percent_revenue": "% от выручки", "kind.fixed_per_deal": "Сумма за сделку",
        "kind.fixed_per_qualified_lead": "Сумма за квалиф. лид",
        "rate.field": "Правило {n}, ставка", "rate.empty": "не указана ставка — введите процент или сумму "
                                                         "(или задайте ступени ниже).",
    },
    "en": {
        "col.model": "Model", "col.partner": "Partner", "col.kind": "Kind", "col.rate": "Rate (% or amount)",
        "col.from": "Valid from", "col.to": "Valid to",
        "help.rate": "For “% of revenue” a percentage (12.5 = 12.5 %), for fixed rules an amount in {sign}. "
                     "A rule with tiers needs no rate.",
        "kind.percent_revenue": "% of revenue", "kind.fixed_per_deal": "Amount per deal",
        "kind.fixed_per_qualified_lead": "Amount per qualified lead",
        "rate.field": "Rule {n}, rate", "rate.empty": "no rate given: type a percentage or an amount (or set "
                                                      "tiers below).",
    },
}
COLUMNS = ["rule_id", "model", "partner", "kind", "rate", "tiers", "tier_kind", "valid_from", "valid_to"]
DATE_FORMAT = {"ru": "DD.MM.YYYY", "en": "YYYY-MM-DD"}
SHOWN = ["model", "partner", "kind", "rate", "valid_from", "valid_to"]  # tiers: edited as rows below


def _shown_rate(kind: object, rate: object, currency: str) -> str:
    """A rate as its cell shows it: 12,5 % for a percent rule (given in percent), 1 500,00 ₽ for an amount."""
    if userdata.is_blank(rate):
        return ""
    return percent_text(rate) if kind == PERCENT else fmt.money(float(rate), lang(), currency, 2)  # type: ignore[arg-type]


def _frame(rules: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Rules (storage units) as the table shows them: rates as text with their unit."""
    frame = userdata.rules_in_percent(rules.reindex(columns=COLUMNS))
    frame["tier_kind"] = frame["tier_kind"].map(userdata.tier_kind_of)  # a scenario saved before tier kinds
    frame["rate"] = [_shown_rate(k, r, currency) for k, r in zip(frame["kind"], frame["rate"], strict=True)]
    return frame.astype({"rate": object}).reset_index(drop=True)


def _blank(row: pd.Series) -> bool:
    """A row the editor added and nobody filled in (its kind is only the column's default)."""
    return all(userdata.is_blank(row.get(c)) for c in ("model", "partner", "rate", "tiers"))


def _read_rates(edited: pd.DataFrame, sign: str) -> tuple[pd.DataFrame, list[str]]:
    """Typed rates as numbers (percent for percent rules); blank rows emptied so validation skips them."""
    out = edited.copy().astype({"rate": object, "kind": object})
    problems: list[str] = []
    for n, (index, row) in enumerate(out.iterrows(), start=1):
        if _blank(row):
            out.loc[index, "kind"] = None
            continue
        text = "" if userdata.is_blank(row["rate"]) else str(row["rate"]).strip()
        field = tr(TEXT, "rate.field", n=n)
        try:
            if not text:
                value = None
            elif row["kind"] == PERCENT:
                value = read_percent(text, field)
            else:
                value = read_amount(text, field, sign)
        except EntryError as exc:
            problems.append(exc.sentence)
            value = None
        out.loc[index, "rate"] = value
    return out, problems


def _missing_rates(rules: pd.DataFrame) -> list[str]:
    """Rules left without a rate and without tiers."""
    return [f"{tr(TEXT, 'rate.field', n=n)}: {tr(TEXT, 'rate.empty')}"
            for n, (_, r) in enumerate(rules.iterrows(), start=1)
            if not userdata.is_blank(r["kind"]) and userdata.is_blank(r["rate"]) and userdata.is_blank(r["tiers"])]


def rules_table(rules: pd.DataFrame, key: str, partner_names: list[str], currency: str,
                disabled: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Edit commission rules (storage units in) as a table with tiers below; returns the rules in storage units
    and the sentences of anything mistyped (empty when the rules can go to validation)."""
    code = lang()
    sign = fmt.currency_symbol(currency, code)
    edited = st.data_editor(
        _frame(rules, currency), key=key, num_rows="fixed" if disabled else "dynamic", hide_index=True, width="stretch",
        disabled=disabled, column_order=SHOWN, placeholder=fmt.DASH,
        column_config={
            "model": st.column_config.SelectboxColumn(tr(TEXT, "col.model"), options=list(MODELS),
                                                      format_func=lambda m: model_label(m, code)),
            "partner": st.column_config.SelectboxColumn(tr(TEXT, "col.partner"), options=partner_names),
            "kind": st.column_config.SelectboxColumn(tr(TEXT, "col.kind"), options=list(KINDS), required=True,
                                                     format_func=lambda k: tr(TEXT, f"kind.{k}", _lang=code),
                                                     default=PERCENT),
            "rate": st.column_config.TextColumn(tr(TEXT, "col.rate"), help=tr(TEXT, "help.rate", sign=sign),
                                                alignment="right"),
            "valid_from": st.column_config.DateColumn(tr(TEXT, "col.from"), format=DATE_FORMAT[code]),
            "valid_to": st.column_config.DateColumn(tr(TEXT, "col.to"), format=DATE_FORMAT[code]),
        },
    )
    typed, problems = _read_rates(edited, sign)
    with_tiers, tier_problems = edit_tiers(typed, key, currency, disabled)
    problems += tier_problems or ([] if problems else _missing_rates(with_tiers))  # a refused rate is said once
    return userdata.rules_from_percent(with_tiers), problems
