"""Stub: the page's owner replaces this file."""

import streamlit as st

from ui.i18n import lang

st.info('Здесь будут выгрузки в CSV, Excel и PDF, выписки для партнёров и еженедельный отчёт.' if lang() == "ru" else 'CSV, Excel and PDF exports, partner statements and the weekly report will live here.')
