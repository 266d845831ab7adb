"""Costs & commissions: the cost ledger (edit, import, export), partners, commission rules, computed commissions.

Render only: reads go through ui.data.query, every save through ui.writes.write (one transaction, then the data
version is bumped). Validation errors come back from data_layer.userdata as sentences in the UI language. The
ledger, import and export tabs are ui.costs_ledger, the payouts tab ui.payouts_panel; what the editors share (fresh
widget keys after a save, the saved flash, error boxes) is ui.costs_edit.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import MODELS, UserDataError
from metrics import engine, lookups
from metrics.filters import Filters
from presentation import fmt
from ui import auth, charts, costs_ledger, layout, payouts_panel
from ui.costs_edit import FLASH, category_label, saved, show_problems, widget_key
from ui.data import query
from ui.filters import current, period_label
from ui.i18n import lang, model_label, t, tr
from ui.rules_editor import rules_table
from ui.tiers_editor import tiers_text
from ui.writes import write

TEXT = {
    "ru": {
        "caption": "Период: {period} · журнал затрат хранит суммы по партнёру × месяцу × категории; комиссии "
                   "по правилам считаются из сделок и показываются отдельной строкой.",
        "summary": "Затраты по категориям", "summary.total": "Всего затрат за период: {total}",
        "summary.note": "«Комиссия по правилам» вычислена из сделок и лидов по правилам комиссий; «Комиссия» — "
                        "суммы, внесённые в журнал вручную. Если вы вносите выплаченную комиссию в журнал, "
                        "не задавайте для неё правило — иначе она посчитается дважды.",
        "summary.axis": "Сумма", "col.category": "Категория", "col.amount": "Сумма", "col.share": "Доля",
        "tab.ledger": "Журнал затрат", "tab.import": "Импорт и экспорт", "tab.partners": "Партнёры",
        "tab.rules": "Правила комиссий", "tab.commissions": "Начисленные комиссии",
        "tab.payouts": "Выплаты партнёрам",
        "col.partner": "Партнёр",
        "save": "Сохранить", "saved.partners": "Партнёры сохранены ({n}).",
        "saved.rules": "Правила сохранены ({n}).",
        "partners.caption": "Модель, заданная здесь, помечается как ручная и не перезаписывается синхронизацией. "
                            "Псевдонимы через запятую — по ним лиды сопоставляются с партнёром (регистр и ё/е "
                            "не важны).",
        "col.name": "Название", "col.model": "Модель", "col.source": "Модель задана", "col.aliases": "Псевдонимы",
        "col.manager": "Менеджер", "col.start": "Начало работы", "col.active": "Активен",
        "src.user": "вручную", "src.crm": "из CRM",
        "rules.caption": "Правило модели действует для всех её партнёров. Правило партнёра на свои даты "
                         "полностью заменяет правила его модели. Ставка: для процента от выручки — проценты "
                         "(10 = 10 %), для фиксированных — сумма за сделку или квалифицированного лида. "
                         "Нет правил — нет начисленной комиссии.",
        "rules.tiers": "Ступени — прогрессивная шкала по месячной выручке партнёра, строками под таблицей: до "
                       "1 000 000 ₽ — 10 %, и выше — 15 % значит 10 % с первого миллиона в месяц и 15 % со всего "
                       "сверх него (по частям, как налоговая шкала) или, «на всю выручку месяца», 15 % со всей "
                       "выручки месяца, перешедшей миллион. Ступени заменяют ставку.",
        "kind.percent_revenue": "% от выручки сделки", "kind.fixed_per_deal": "Сумма за сделку",
        "kind.fixed_per_qualified_lead": "Сумма за квалиф. лид",
        "commissions.caption": "Как посчитаны комиссии за период по каждому правилу (отдельная строка затрат, не из "
                               "журнала): выручка выигранных сделок × ставка или число сделок / квалифицированных "
                               "лидов × сумма.",
        "commissions.none": "За период нет начисленных комиссий: нет правил или нет сделок и квалифицированных "
                            "лидов у партнёров с правилами.",
        "commissions.total": "Итого комиссий по правилам: {total}",
        "col.months": "Месяцы", "scope.model": "правило модели", "scope.partner": "правило партнёра",
        "how.tiers": "ступени {kind}: {tiers}",
        "how.kind.whole": "на всю выручку месяца", "how.kind.marginal": "по частям",
        "col.rule": "Правило", "col.commission": "Комиссия", "col.how": "Как посчитано",
    },
    "en": {
        "caption": "Period: {period} · the ledger holds amounts per partner × month × category; commissions by "
                   "rules are computed from deals and shown as a separate line.",
        "summary": "Costs by category", "summary.total": "Total costs in the period: {total}",
        "summary.note": "“Commission by rules” is computed from deals and leads by the commission rules; "
                        "“Commission” is what was entered in the ledger. If you enter paid commission in the "
                        "ledger, do not also set a rule for it, or it counts twice.",
        "summary.axis": "Amount", "col.category": "Category", "col.amount": "Amount", "col.share": "Share",
        "tab.ledger": "Cost ledger", "tab.import": "Import & export", "tab.partners": "Partners",
        "tab.rules": "Commission rules", "tab.commissions": "Computed commissions",
        "tab.payouts": "Partner payouts",
        "col.partner": "Partner",
        "save": "Save", "saved.partners": "Partners saved ({n}).",
        "saved.rules": "Rules saved ({n}).",
        "partners.caption": "A model set here is marked as the user's and never overwritten by a sync. Aliases, "
                            "comma-separated, match leads to the partner (case and ё/е ignored).",
        "col.name": "Name", "col.model": "Model", "col.source": "Model set", "col.aliases": "Aliases",
        "col.manager": "Manager", "col.start": "Start date", "col.active": "Active",
        "src.user": "by user", "src.crm": "from CRM",
        "rules.caption": "A model's rule applies to all its partners. A partner's rule replaces its model's rules "
                         "entirely on its dates. Rate: percent for a share of revenue (10 = 10 %), an amount for "
                         "fixed rules (per deal or per qualified lead). No rules, no computed commission.",
        "rules.tiers": "Tiers are a progressive scale over the partner's monthly revenue, as rows below the table: "
                       "up to 1,000,000 ₽ — 10 %, and above — 15 % means 10 % of the first million a month and "
                       "15 % of everything above it (in parts, like tax brackets) or, “on the whole month's "
                       "revenue”, 15 % of the whole month once it passes a million. Tiers replace the rate.",
        "kind.percent_revenue": "% of deal revenue", "kind.fixed_per_deal": "Amount per deal",
        "kind.fixed_per_qualified_lead": "Amount per qualified lead",
        "commissions.caption": "How the period's commissions were computed, rule by rule (a cost line of its "
                               "own, not from the ledger): revenue of won deals × rate, or number of deals / "
                               "qualified leads × amount.",
        "commissions.none": "No computed commissions in the period: no rules, or no deals and qualified leads of "
                            "partners with rules.",
        "commissions.total": "Total commissions by rules: {total}",
        "col.months": "Months", "scope.model": "model rule", "scope.partner": "partner rule",
        "how.tiers": "tiers {kind}: {tiers}",
        "how.kind.whole": "on the whole month", "how.kind.marginal": "in parts",
        "col.rule": "Rule", "col.commission": "Commission", "col.how": "How",
    },
}


# ---------------------------------------------------------------- summary

def summary(f: Filters, currency: str) -> None:
    """Costs by category for the current filters, computed commission as its own line."""
    code = lang()
    st.subheader(tr(TEXT, "summary"), anchor=False)
    rows = query(engine.costs_by_category, f)
    if rows.empty:
        layout.empty()
        return
    rows = rows[["category", "amount"]].assign(amount=lambda d: d["amount"].fillna(0.0).astype(float))
    total = float(rows["amount"].sum())
    st.caption(tr(TEXT, "summary.total", total=fmt.money(total, code, currency)))
    if total <= 0:
        return
    rows["label"] = rows["category"].map(category_label)
    rows = rows.sort_values("amount", ascending=False, kind="stable")  # the table in the chart's order
    left, right = st.columns([3, 2])
    with left:
        chart = charts.cost_categories(rows[rows["amount"] > 0], "label", "amount", tr(TEXT, "summary.axis"),
                                       currency)
        charts.show(chart, key="costs.category_chart", height=240)
    with right:
        st.dataframe(pd.DataFrame({
            tr(TEXT, "col.category"): rows["label"],
            tr(TEXT, "col.amount"): [fmt.money(v, code, currency) for v in rows["amount"]],
            tr(TEXT, "col.share"): [fmt.pct(v / total, code) for v in rows["amount"]],
        }), hide_index=True, key="costs.category_table", placeholder=fmt.DASH)
    st.caption(tr(TEXT, "summary.note"))


# ---------------------------------------------------------------- partners

def partners_editor(partners: pd.DataFrame) -> None:
    """Model, aliases, manager, active flag and start date of every partner; new rows add partners."""
    st.caption(tr(TEXT, "partners.caption"))
    frame = partners[["partner_id", "name", "model", "model_source", "aliases", "manager", "start_date",
                      "active"]].copy()
    frame["aliases"] = frame["aliases"].map(lambda a: ", ".join(a))
    frame["model_source"] = frame["model_source"].map(lambda s: tr(TEXT, f"src.{s}") if s else "")
    edited = st.data_editor(
        frame, key=widget_key("partners"), num_rows="add" if auth.can("edit") else "fixed", hide_index=True,
        width="stretch", disabled=not auth.can("edit"),
        column_order=["name", "model", "model_source", "aliases", "manager", "start_date", "active"],
        column_config={
            "name": st.column_config.TextColumn(tr(TEXT, "col.name"), required=True, max_chars=200),
            "model": st.column_config.SelectboxColumn(tr(TEXT, "col.model"), options=list(MODELS),
                                                      format_func=model_label),
            "model_source": st.column_config.TextColumn(tr(TEXT, "col.source"), disabled=True),
            "aliases": st.column_config.TextColumn(tr(TEXT, "col.aliases")),
            "manager": st.column_config.TextColumn(tr(TEXT, "col.manager")),
            "start_date": st.column_config.DateColumn(tr(TEXT, "col.start")),
            "active": st.column_config.CheckboxColumn(tr(TEXT, "col.active"), default=True),
        },
    )
    if auth.can("edit") and st.button(tr(TEXT, "save"), key="costs.partners_save", type="primary"):
        try:
            n = write(userdata.save_partners, edited.drop(columns=["model_source"]))
        except UserDataError as exc:
            show_problems(exc)
        else:
            saved(tr(TEXT, "saved.partners", n=n))


# ---------------------------------------------------------------- commission rules

def rules_editor(partners: pd.DataFrame, currency: str) -> None:
    """Commission rules per model and per-partner overrides, tiers as rows (ui.rules_editor, shared with what-if)."""
    st.caption(tr(TEXT, "rules.caption"))
    st.caption(tr(TEXT, "rules.tiers"))
    edited, problems = rules_table(query(userdata.list_rules), widget_key("rules"), partners["name"].tolist(), currency,
                                   disabled=not auth.can("edit"))
    if problems:
        st.error("\n".join(f"- {fmt.md_escape(p)}" for p in problems), icon=":material/error:")
    if auth.can("edit") and st.button(tr(TEXT, "save"), key="costs.rules_save", type="primary",
                                      disabled=bool(problems)):
        try:
            n = write(userdata.replace_rules, edited)
        except UserDataError as exc:
            show_problems(exc)
        else:
            saved(tr(TEXT, "saved.rules", n=n))


# ---------------------------------------------------------------- computed commissions

def how_text(row: pd.Series, currency: str) -> str:
    """One rule's commission in words: revenue × rate (or tiers) = amount, or count × fixed amount."""
    code = lang()
    amount = fmt.money(row.get("amount"), code, currency, 2)
    if row.get("kind") == "percent_revenue":
        rate = fmt.pct(row.get("effective_rate"), code, 2)
        raw = row.get("tiers")
        tiers = None if raw is None or pd.isna(raw) else userdata.parse_tiers(raw)
        kind = tr(TEXT, f"how.kind.{userdata.tier_kind_of(row.get('tier_kind'))}")
        where = f" ({tr(TEXT, 'how.tiers', kind=kind, tiers=tiers_text(tiers, currency))})" if tiers else ""
        return f"{fmt.money(row.get('revenue'), code, currency, 2)} × {rate}{where} = {amount}"
    count = fmt.num(row.get("events"), code)
    return f"{count} × {fmt.money(row.get('rate'), code, currency, 2)} = {amount}"


def commissions_section(f: Filters, currency: str) -> None:
    """Every rule that earned a commission in the period, per partner, with how it was computed."""
    code = lang()
    st.caption(tr(TEXT, "commissions.caption"))
    details = query(engine.commission_details, f)
    if details.empty:
        st.info(tr(TEXT, "commissions.none"))
        return
    st.caption(tr(TEXT, "commissions.total", total=fmt.money(float(details["amount"].sum()), code, currency)))
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.partner"): details["partner"].astype(str),
        tr(TEXT, "col.model"): details["model"].map(model_label),
        tr(TEXT, "col.rule"): [tr(TEXT, f"kind.{k}") + " · " + tr(TEXT, f"scope.{s}")
                               for k, s in zip(details["kind"], details["rule_scope"], strict=True)],
        tr(TEXT, "col.months"): [f"{a:%Y-%m} – {b:%Y-%m}" if not pd.isna(a) else fmt.DASH
                                 for a, b in zip(details["first_month"], details["last_month"], strict=True)],
        tr(TEXT, "col.commission"): [fmt.money(v, code, currency, 2) for v in details["amount"]],
        tr(TEXT, "col.how"): [how_text(r, currency) for _, r in details.iterrows()],
    }), hide_index=True, key="costs.commissions", placeholder=fmt.DASH)


# ---------------------------------------------------------------- page

def render() -> None:
    """The costs & commissions page."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.costs"), anchor=False)
    st.caption(tr(TEXT, "caption", period=period_label(f)))
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if not auth.can("edit"):
        auth.read_only_note()
    summary(f, currency)
    partners = query(userdata.list_partners)
    tabs = st.tabs([tr(TEXT, k) for k in ("tab.ledger", "tab.import", "tab.partners", "tab.rules",
                                          "tab.commissions", "tab.payouts")])
    with tabs[0]:
        costs_ledger.ledger_editor(f, partners)
    with tabs[1]:
        if auth.can("edit"):
            costs_ledger.import_section(currency)
        st.divider()
        costs_ledger.export_section()
    with tabs[2]:
        partners_editor(partners)
    with tabs[3]:
        rules_editor(partners, currency)
    with tabs[4]:
        commissions_section(f, currency)
    with tabs[5]:
        payouts_panel.render(f)  # owed vs paid; approve / pay / reverse (editors only, audited)


if __name__ == "__main__":
    render()
