"""What the dashboard (ui, pages) and the reports both show, with no Streamlit: formatting, colours, words, periods."""
