"""The baseline page of the room benchmark: Streamlit with one number and nothing else.

Loaded by 10 browsers exactly as the dashboard is, it measures what Streamlit and the browsers cost on this
machine by themselves, so the dashboard's figures can be read as a ratio to it.
"""

import streamlit as st

st.set_page_config(page_title="minimal", layout="wide")
st.metric("Лиды", "1 234")
