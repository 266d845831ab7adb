"""A partner's own view: their KPIs and statement, nothing about any other partner or the program.

Shown instead of every other page to a person whose role is ``partner:<name>``. The partner comes from
the signed-in role only — never from filters, URL parameters or widgets — so nothing can widen it.
"""

from __future__ import annotations

import streamlit as st

from data_layer import userdata
from metrics.filters import Filters
from presentation import fmt
from reports import statement
from ui import auth, data, filters
from ui.i18n import labeler, lang, tr

PRESETS = ("this_month", "last_month", "this_quarter", "last_12m")
TEXT = {
    "ru": {
        "title": "Кабинет партнёра «{name}»", "period": "Период",
        "leads": "Лиды", "qualified": "Квалифицированные", "deals": "Сделки", "revenue": "Выручка по сделкам",
        "owed": "Вознаграждение начислено", "pdf": "Акт-сверка (PDF)", "xlsx": "Акт-сверка (Excel)",
        "unknown": "Партнёр «{name}» не найден в справочнике. Сообщите администратору дашборда.",
        "deals.title": "Ваши лиды и сделки",
    },
    "en": {
        "title": "Partner portal: “{name}”", "period": "Period",
        "leads": "Leads", "qualified": "Qualified", "deals": "Deals", "revenue": "Deal revenue",
        "owed": "Reward accrued", "pdf": "Statement (PDF)", "xlsx": "Statement (Excel)",
        "unknown": "Partner “{name}” is not in the partner list. Tell the dashboard administrator.",
        "deals.title": "Your leads and deals",
    },
}


def my_partner_id(name: str | None) -> int | None:
    """The partner id of the signed-in partner role."""
    return data.query(userdata.find_partner, name) if name else None


def render() -> None:
    """KPIs and statement downloads of the signed-in partner only."""
    me = auth.principal()
    pid = my_partner_id(me.partner)
    if pid is None:
        st.error(tr(TEXT, "unknown", name=fmt.plain(me.partner or "?")))
        return
    st.title(tr(TEXT, "title", name=fmt.plain(me.partner)), anchor=False)
    preset = st.selectbox(tr(TEXT, "period"), PRESETS, index=3, key="portal.period",
                          format_func=labeler(filters.TEXT, "preset."))  # the sidebar's own labels
    lo, hi = filters.preset_range(preset, filters.today())
    info = data.query(statement.collect, Filters(lo, hi), pid)
    code = lang()
    cur = info.currency
    totals = info.totals
    cols = st.columns(5)
    for col, (label, value) in zip(cols, (
            ("leads", fmt.num(totals["leads"], code)), ("qualified", fmt.num(totals["qualified_leads"], code)),
            ("deals", fmt.num(totals["won_deals"], code)), ("revenue", fmt.money(totals["revenue"], code, cur)),
            ("owed", fmt.money(totals["owed"], code, cur))), strict=True):
        col.metric(tr(TEXT, label), value)
    c1, c2 = st.columns(2)
    c1.download_button(tr(TEXT, "pdf"), data=statement.render(info, "pdf", code), key="portal.pdf",
                       file_name=statement.filename(info, "pdf", code), mime="application/pdf")
    c2.download_button(tr(TEXT, "xlsx"), data=statement.render(info, "xlsx", code), key="portal.xlsx",
                       file_name=statement.filename(info, "xlsx", code),
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    st.subheader(tr(TEXT, "deals.title"), anchor=False)
    st.dataframe(info.deals, hide_index=True, key="portal.deals", placeholder=fmt.DASH)


if __name__ == "__main__":
    render()
