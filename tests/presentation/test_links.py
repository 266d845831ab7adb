"""The dashboard link builder writes the same parameter names the sidebar filters read."""

import pytest

from presentation.links import dashboard_url
from ui import filters


def test_partner_filter_link():
    url = dashboard_url("http://host:8501/", "partners", partner=["p7"], period="last_month")
    assert url == "http://host:8501/partners?partner=p7&period=last_month"


def test_ui_uses_the_same_names():
    assert "partner" in filters.GLOBAL_PARAMS and "from" in filters.GLOBAL_PARAMS


def test_unknown_parameter_refused():
    with pytest.raises(ValueError):
        dashboard_url(partnr="p7")


def test_a_page_parameter_only_on_its_page():
    url = dashboard_url("http://host:8501", "partners", selected="7", partner=["7"])
    assert url == "http://host:8501/partners?selected=7&partner=7"
    with pytest.raises(ValueError):
        dashboard_url("http://host:8501", "trends", selected="7")
