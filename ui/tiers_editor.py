"""A percent rule's monthly tiers edited as rows (threshold, rate), not JSON: under a commission-rules table.

Tiers are bands of the partner's monthly revenue (metrics-spec, "Commission rules"): each row's rate applies up to
its threshold, the top row has none ("и выше"). They apply `marginal` (each band's rate on the revenue inside it)
or `whole` (the highest band reached sets the rate of the whole month). Rows are sorted by threshold, so a tier
added at the bottom lands where it belongs; `userdata.parse_tiers` checks the result (one home for the rule).

The rules table (ui/rules_editor.py) keeps its data fixed while it is edited, so the tiers typed here are kept in
session state per rule row and laid over its rows on every run; the tier editor's own rows stay fixed likewise.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import TIER_KINDS, UserDataError
from presentation import fmt
from ui.i18n import lang, model_label, tr
from ui.number_entry import EntryError, amount_text, percent_text, read_amount, read_percent

TEXT = {
    "ru": {
        "title": "Ступени правила", "pick": "Правило",
        "caption": "Ставка строки действует на месячную выручку партнёра до её границы; у верхней ступени "
                   "вместо границы — «и выше». Ступени заменяют ставку правила; без строк ступеней нет.",
        "none": "Ступени бывают у правил «% от выручки» — добавьте такое правило в таблицу выше.",
        "col.up_to": "Выручка за месяц до, {sign}", "col.rate": "Ставка, %",
        "help.up_to": "Граница ступени; у верхней ступени — «и выше» (или пусто).", "and_above": "и выше",
        "kind": "Как применять ступени", "kind.marginal": "по частям (как налоговая шкала)",
        "kind.whole": "на всю выручку месяца",
        "tier": "Ступень {n}", "target.partner": "партнёр «{name}»", "target.new": "новое правило",
        "from": "с {date}", "to": "по {date}", "no_tiers": "без ступеней",
        "now": "Ступени правила: {tiers}; {kind}.", "no_tiers.now": "У правила нет ступеней — действует его ставка.",
        "up_to": "до {amount}", "above": "выше",
        "tiers.last": "«И выше» (или пусто) бывает ровно у одной ступени — верхней: напишите «и выше» в поле "
                      "«Выручка за месяц до» у неё и границу у остальных.",
        "tiers.order": "Граница {value} встречается дважды — у каждой ступени своя граница: исправьте или "
                       "удалите лишнюю строку.",
        "tiers.up_to": "Граница {value} не больше нуля — введите выручку за месяц больше нуля.",
    },
    "en": {
        "title": "Rule tiers", "pick": "Rule",
        "caption": "A row's rate applies to the partner's monthly revenue up to its threshold; the top tier has "
                   "none (“and above”). Tiers replace the rule's rate; no rows, no tiers.",
        "none": "Only “% of revenue” rules have tiers: add such a rule to the table above.",
        "col.up_to": "Monthly revenue up to, {sign}", "col.rate": "Rate, %",
        "help.up_to": "The tier's threshold; “and above” (or empty) for the top tier.", "and_above": "and above",
        "kind": "How tiers apply", "kind.marginal": "in parts (like tax brackets)",
        "kind.whole": "on the whole month's revenue",
        "tier": "Tier {n}", "target.partner": "partner “{name}”", "target.new": "new rule",
        "from": "from {date}", "to": "to {date}", "no_tiers": "no tiers",
        "now": "The rule's tiers: {tiers}; {kind}.", "no_tiers.now": "The rule has no tiers: its rate applies.",
        "up_to": "up to {amount}", "above": "above",
        "tiers.last": "Exactly one tier, the top one, is “and above” (or empty): write “and above” there and a "
                      "threshold on the others.",
        "tiers.order": "The threshold {value} appears twice: each tier needs its own; fix or delete a row.",
        "tiers.up_to": "The threshold {value} is not above zero: type a monthly revenue above zero.",
    },
}
PERCENT = "percent_revenue"


def tiers_text(tiers: list[dict[str, Any]] | None, currency: str) -> str:
    """Tiers in words: до 1 000 000 ₽ — 10 %, выше — 15 % (or «без ступеней»)."""
    code = lang()
    if not tiers:
        return tr(TEXT, "no_tiers")
    parts = []
    for tier in tiers:
        bound = tr(TEXT, "above") if tier["up_to"] is None else tr(
            TEXT, "up_to", amount=fmt.money(tier["up_to"], code, currency))
        parts.append(f"{bound} — {percent_text(float(tier['rate']) * 100)}")
    return ", ".join(parts)


def _stored(key: str) -> dict[int, dict[str, Any]]:
    """The tiers typed so far for this rules table: {row index: {"tiers": JSON text or None, "tier_kind"}}."""
    return st.session_state.setdefault(f"{key}.tiers", {})


def _parsed(raw: object) -> list[dict[str, Any]] | None:
    """Stored tiers as a list (a damaged value reads as none: validation then names it)."""
    try:
        return userdata.parse_tiers(raw)
    except UserDataError:
        return None


def _label(row: pd.Series) -> str:
    """One rule in the picker: its target and dates (its tiers are said under the rows, read this run)."""
    if not userdata.is_blank(row.get("partner")):
        target = tr(TEXT, "target.partner", name=str(row["partner"]))  # a selectbox option: plain text
    elif not userdata.is_blank(row.get("model")):
        target = model_label(str(row["model"]))  # labels are built in the run, not in format_func
    else:
        target = tr(TEXT, "target.new")
    dates = [tr(TEXT, k, date=fmt.day(row.get(c), lang())) for k, c in (("from", "valid_from"), ("to", "valid_to"))
             if not userdata.is_blank(row.get(c))]
    return " · ".join([target, *dates])


def _rows(tiers: list[dict[str, Any]] | None) -> pd.DataFrame:
    """Tiers as editor rows of text, thresholds and rates written the UI language's way."""
    above = tr(TEXT, "and_above")
    return pd.DataFrame([{"up_to": above if t["up_to"] is None else amount_text(t["up_to"]),
                          "rate": percent_text(float(t["rate"]) * 100)} for t in tiers or []],
                        columns=["up_to", "rate"]).astype(object)


def _no_bound(text: str) -> bool:
    """The top tier's threshold: empty or the words «и выше» / "and above"."""
    return text.strip().lower() in ("", *(TEXT[code]["and_above"] for code in TEXT))


def _start(key: str, picked: int, tiers: object) -> pd.DataFrame:
    """The rows the picked rule's tier editor starts from. They stay the same while the editor is on screen (a
    dynamic data_editor whose data changes starts afresh and would drop what is being typed); picking the rule
    again starts from its tiers as typed so far."""
    starts = st.session_state.setdefault(f"{key}.tier_start", {})
    if st.session_state.get(f"{key}.tier_shown") != picked:
        starts.pop(picked, None)
    st.session_state[f"{key}.tier_shown"] = picked
    return starts.setdefault(picked, _rows(_parsed(tiers)))


def read_rows(rows: pd.DataFrame, currency: str) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """Validated tiers (fractions, sorted by threshold, None when there are no rows) from editor rows, or the
    sentences of what is wrong."""
    sign = fmt.currency_symbol(currency, lang())
    problems: list[str] = []
    tiers: list[dict[str, Any]] = []
    for n, row in enumerate(rows.to_dict("records"), start=1):
        up, rate = (("" if userdata.is_blank(row.get(c)) else str(row[c]).strip()) for c in ("up_to", "rate"))
        if not up and not rate:
            continue  # an empty row the editor added
        where = tr(TEXT, "tier", n=n)
        try:
            bound = None if _no_bound(up) else read_amount(up, f"{where}, {tr(TEXT, 'col.up_to', sign=sign)}", sign)
            pct = read_percent(rate, f"{where}, {tr(TEXT, 'col.rate')}")
        except EntryError as exc:
            problems.append(exc.sentence)
            continue
        tiers.append({"up_to": bound, "rate": round(float(pct or 0.0) / 100, 6)})
    if problems or not tiers:
        return None, problems
    tiers.sort(key=lambda t: (t["up_to"] is None, t["up_to"] or 0.0))
    try:
        return userdata.parse_tiers(tiers), []
    except UserDataError as exc:
        return None, [_sentence(p.code, p.params, currency) for p in exc.problems]


def _sentence(code: str, params: dict[str, Any], currency: str) -> str:
    """A tiers problem in the words of the rows (userdata's own sentence speak of JSON)."""
    if code not in TEXT["ru"]:
        return userdata.Problem(code, params).text(lang())
    value = params.get("value")
    shown = fmt.money(value, lang(), currency) if isinstance(value, int | float) else value
    return tr(TEXT, code, value=shown)


def edit_tiers(rules: pd.DataFrame, key: str, currency: str, disabled: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Pick one percent rule of the rules table (editor shape: tiers as JSON text, tier_kind) and edit its tiers
    as rows; returns the rules with every rule's typed tiers laid over, and the problems of the picked one."""
    stored = _stored(key)
    out = rules.copy().astype({"tiers": object, "tier_kind": object})
    for index, change in stored.items():
        if index in out.index:
            out.loc[index, ["tiers", "tier_kind"]] = [change["tiers"], change["tier_kind"]]
    out.loc[out["kind"] != PERCENT, "tiers"] = None  # a rule changed to a fixed reward keeps no tiers
    st.markdown(f"**{tr(TEXT, 'title')}**")
    choices = [i for i in out.index if out.loc[i, "kind"] == PERCENT]
    if not choices:
        st.caption(tr(TEXT, "none"))
        return out, []
    code = lang()
    rows_at = {i: n for n, i in enumerate(out.index, start=1)}  # the table's row numbers, as problems name them
    labels = {i: f"{rows_at[i]}. {_label(out.loc[i])}" for i in choices}
    picked = st.selectbox(tr(TEXT, "pick"), choices, key=f"{key}.tier_rule", format_func=lambda i: labels[i])
    st.caption(tr(TEXT, "caption"))
    kind = st.radio(tr(TEXT, "kind"), TIER_KINDS, horizontal=True, key=f"{key}.tier_kind.{picked}",
                    index=TIER_KINDS.index(userdata.tier_kind_of(out.loc[picked, "tier_kind"])),
                    format_func=lambda k: tr(TEXT, f"kind.{k}", _lang=code), disabled=disabled)
    sign = fmt.currency_symbol(currency, code)
    rows = st.data_editor(
        _start(key, picked, out.loc[picked, "tiers"]), key=f"{key}.tier_rows.{picked}", num_rows="dynamic",
        hide_index=True, width="stretch", disabled=disabled, placeholder="",
        column_config={"up_to": st.column_config.TextColumn(tr(TEXT, "col.up_to", sign=sign),
                                                            help=tr(TEXT, "help.up_to"), alignment="right"),
                       "rate": st.column_config.TextColumn(tr(TEXT, "col.rate"), alignment="right")})
    tiers, problems = read_rows(rows, currency)
    if problems:
        return out, problems
    st.caption(tr(TEXT, "now", tiers=tiers_text(tiers, currency), kind=tr(TEXT, f"kind.{kind}")) if tiers
               else tr(TEXT, "no_tiers.now"))
    change = {"tiers": userdata.tiers_json(tiers), "tier_kind": kind}
    now = {"tiers": userdata.tiers_json(_parsed(out.loc[picked, "tiers"])),
           "tier_kind": userdata.tier_kind_of(out.loc[picked, "tier_kind"])}
    if change != now:
        stored[picked] = change
        out.loc[picked, ["tiers", "tier_kind"]] = [change["tiers"], kind]
    return out, []
