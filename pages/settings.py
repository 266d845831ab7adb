"""Stub: the page's owner replaces this file."""

import streamlit as st

from ui.i18n import lang

st.info('Здесь будут подключение amoCRM, синхронизация, справочник партнёров и настройки расчёта.' if lang() == "ru" else 'The amoCRM connection, sync, the partner list and calculation settings will live here.')
