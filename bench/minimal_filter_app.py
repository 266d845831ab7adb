"""The baseline page of the feel benchmark's filter changes: a period select and a model multiselect in the
sidebar, one number that follows them, and nothing else.

The widgets carry the dashboard's keys and Russian labels (so the benchmark drives both pages with the same
selectors and clicks); each choice shows a different number, so "the first number changed" marks the redraw.
"""

import streamlit as st

PERIODS = {"last_12m": "Последние 12 месяцев", "last_month": "Прошлый месяц", "this_month": "Этот месяц"}
LEADS = {"last_12m": 20_412, "last_month": 1_733, "this_month": 512}
MODELS = {"referral": "Реферальная", "sales": "Продажи (реселлеры)", "service": "Сервисная", "direct": "Прямые продажи"}

st.set_page_config(page_title="minimal filter", layout="wide")
with st.sidebar:
    period = st.selectbox("Период", list(PERIODS), key="filters.period", format_func=PERIODS.__getitem__)
    models = st.multiselect("Модели", list(MODELS), key="filters.models", format_func=MODELS.__getitem__,
                            placeholder="все")
share = len(models) / len(MODELS) if models else 1.0  # a model filter shows a part of the leads
st.metric("Лиды", f"{round(LEADS[period] * share):,}".replace(",", "\u00a0"))
