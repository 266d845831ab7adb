"""Lead quality by partner or model: the score and its components, junk share, lead → qualified."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import costs, engine
from presentation import fmt
from ui import charts, layout
from ui.data import query
from ui.filters import current, language_sensitive, period_label
from ui.i18n import labeler, lang, metric_help, metric_label, metric_labeler, model_label, t, tr

K_BY, K_SORT = "quality.by", "quality.sort_by"
SORTS = ("quality_score", "junk_share", "lead_to_qualified", "leads")
COMPONENTS = (("phone", "phone_share"), ("email", "email_share"), ("qualified", "qualified_share"))

TEXT = {
    "ru": {
        "caption": "Период: {now} · оценка лида 0–100 = телефон ({phone}) + e-mail ({email}) + дошёл до "
                   "квалификации ({qualified}); веса меняются в настройках.",
        "junk": "Мусорный лид — проигранный с причиной отказа из списка «мусорных» (по умолчанию: Спам, Дубль, "
                "Нецелевой).",
        "by": "Разрез", "by.partner": "По партнёрам", "by.model": "По моделям", "sort_by": "Сортировать по",
        "chart": "Из чего складывается оценка", "axis": "Баллы", "table": "Качество лидов",
        "c.phone": "Телефон", "c.email": "E-mail", "c.qualified": "Квалификация",
        "col.name": "Партнёр", "col.model": "Модель", "col.phone": "С телефоном", "col.email": "С e-mail",
        "col.flag": "Выборка", "baseline": "база сравнения",
    },
    "en": {
        "caption": "Period: {now} · lead score 0–100 = phone ({phone}) + e-mail ({email}) + reached "
                   "qualification ({qualified}); the weights are set in settings.",
        "junk": "A junk lead is a lost lead whose loss reason is on the junk list (by default: Spam, Duplicate, "
                "Off-target).",
        "by": "Split", "by.partner": "By partner", "by.model": "By model", "sort_by": "Sort by",
        "chart": "What the score is made of", "axis": "Points", "table": "Lead quality",
        "c.phone": "Phone", "c.email": "E-mail", "c.qualified": "Qualification",
        "col.name": "Partner", "col.model": "Model", "col.phone": "With phone", "col.email": "With e-mail",
        "col.flag": "Sample", "baseline": "baseline",
    },
}


def with_points(rows: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Add the score components in points: share of leads with the trait × its weight."""
    out = rows.copy()
    for name, share in COMPONENTS:
        out[f"{name}_points"] = out[share].astype(float).fillna(0.0) * weights.get(name, 0.0)
    return out


def order_rows(rows: pd.DataFrame, sort_by: str) -> pd.DataFrame:
    """Best first by the chosen metric (least junk first); rows with too few leads go last, never on top."""
    few = rows["too_few"].fillna(False).astype(bool) if "too_few" in rows.columns else False
    out = rows.assign(_few=few)
    out = out.sort_values(["_few", sort_by], ascending=[True, sort_by == "junk_share"], kind="stable")
    return out.drop(columns="_few")


def _label(rows: pd.DataFrame, by: str) -> pd.Series:
    if by == "model":
        return rows["model"].map(model_label)
    return pd.Series([str(p) if pd.notna(pid) else model_label("direct")
                      for p, pid in zip(rows["partner"], rows["partner_id"], strict=False)], index=rows.index)


def quality_table(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Rows for display: name, model, leads, score, shares, junk share, lead → qualified, sample note."""
    code = lang()
    table = {tr(TEXT, "col.name") if by == "partner" else tr(TEXT, "col.model"): _label(rows, by)}
    if by == "partner":
        table[tr(TEXT, "col.model")] = rows["model"].map(model_label)
    table.update({
        metric_label("leads"): [fmt.num(v, code) for v in rows["leads"]],
        metric_label("quality_score"): [fmt.num(v, code, 1) for v in rows["quality_score"]],
        tr(TEXT, "col.phone"): [fmt.pct(v, code) for v in rows["phone_share"]],
        tr(TEXT, "col.email"): [fmt.pct(v, code) for v in rows["email_share"]],
        metric_label("lead_to_qualified"): [fmt.pct(v, code) for v in rows["lead_to_qualified"]],
        metric_label("junk_share"): [fmt.pct(v, code) for v in rows["junk_share"]],
    })
    if by == "partner":
        table[tr(TEXT, "col.flag")] = [tr(TEXT, "baseline") if pd.isna(pid) else (t("too_few") if bool(f) else "")
                                       for pid, f in zip(rows["partner_id"], rows["too_few"], strict=False)]
    return pd.DataFrame(table)


language_sensitive(K_BY, K_SORT)


def render() -> None:
    """The lead-quality page."""
    f = current()
    settings = query(costs.load_settings)
    weights = {name: settings.weight(name) for name, _ in COMPONENTS}
    code = lang()
    st.title(t("page.quality"), anchor=False)
    st.caption(tr(TEXT, "caption", now=period_label(f), **{k: fmt.num(v, code) for k, v in weights.items()}))
    total = query(engine.quality, f, by="none")
    if total.empty or int(total.iloc[0]["leads"]) == 0:
        layout.empty()
        return
    row = total.iloc[0]
    cards = [layout.Kpi(metric_label("quality_score"), fmt.num(row["quality_score"], code, 1),
                        help=metric_help("quality_score")),
             layout.Kpi(metric_label("junk_share"), fmt.pct(row["junk_share"], code),
                        help=f"{metric_help('junk_share') or ''} {tr(TEXT, 'junk')}".strip()),
             layout.Kpi(metric_label("lead_to_qualified"), fmt.pct(row["lead_to_qualified"], code),
                        help=metric_help("lead_to_qualified"))]
    layout.kpi_cards(cards, key="quality.kpi")

    c1, c2 = st.columns([1, 1], vertical_alignment="bottom")
    with c1:
        if st.session_state.get(K_BY) not in ("partner", "model"):
            st.session_state[K_BY] = "partner"
        by = st.segmented_control(tr(TEXT, "by"), ("partner", "model"), key=K_BY, required=True,
                                  format_func=labeler(TEXT, "by."))
    with c2:
        if st.session_state.get(K_SORT) not in SORTS:
            st.session_state[K_SORT] = "quality_score"
        sort_by = st.selectbox(tr(TEXT, "sort_by"), SORTS, key=K_SORT, format_func=metric_labeler())
    rows = query(engine.quality, f, by=by)
    rows = rows[rows["leads"] > 0]
    if rows.empty:
        layout.empty()
        return
    rows = order_rows(with_points(rows, weights), sort_by)
    st.subheader(tr(TEXT, "chart"), anchor=False)
    names = _label(rows, by).astype(str)
    few = rows["too_few"].fillna(False).astype(bool) if "too_few" in rows.columns else pd.Series(False, index=rows.index)
    chart_rows = rows.assign(name=[f"{n} ({t('too_few')})" if f else n for n, f in zip(names, few, strict=False)])
    parts = [(f"{name}_points", tr(TEXT, f"c.{name}")) for name, _ in COMPONENTS]
    charts.show(charts.quality_components(chart_rows, "name", parts, tr(TEXT, "axis")), key="quality.chart",
                height=max(200, 24 * len(chart_rows)))
    st.subheader(tr(TEXT, "table"), anchor=False)
    st.dataframe(quality_table(rows, by), hide_index=True, key="quality.table",
                 height=min(36 * (len(rows) + 1) + 4, 640), placeholder=fmt.DASH)
    st.caption(tr(TEXT, "junk"))


if __name__ == "__main__":
    render()
