"""Pure helpers behind the dashboard: period presets, formatting, Markdown escaping, anomaly bands, ranking,
week movers, recommended actions, and the completeness of every page's RU/EN text table."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from metrics import changes, maturity
from metrics.filters import Filters
from pages import models, overview, partners, quality, trends
from presentation import fmt, freshness, palette, periods
from ui import charts, filters, layout

NOW = date(2026, 5, 14)


# ---------- periods ----------

@pytest.mark.parametrize(("preset", "expected"), [
    ("this_month", (date(2026, 5, 1), NOW)),
    ("last_month", (date(2026, 4, 1), date(2026, 4, 30))),
    ("this_quarter", (date(2026, 4, 1), NOW)),
    ("last_12m", (date(2025, 6, 1), NOW)),
])
def test_period_presets(preset: str, expected: tuple[date, date]) -> None:
    assert filters.preset_range(preset, NOW) == expected


def test_last_month_in_january_is_december() -> None:
    assert filters.preset_range("last_month", date(2026, 1, 10)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_comparison_periods() -> None:
    f = Filters(date(2024, 2, 1), date(2024, 2, 29), models=("sales",))
    prev = periods.comparison_of(f, "previous")
    assert (prev.date_from, prev.date_to) == (date(2024, 1, 3), date(2024, 1, 31))
    year = periods.comparison_of(f, "year")
    assert (year.date_from, year.date_to) == (date(2023, 2, 1), date(2023, 2, 28))
    assert year.models == ("sales",)


# ---------- formatting and escaping ----------

def test_locale_formats() -> None:
    assert fmt.money(1234567) == "1\u00a0234\u00a0567\u00a0₽"
    assert fmt.pct(0.205) == "20,5\u00a0%"
    assert fmt.pct(0.205, "en") == "20.5%"
    assert fmt.money_short(255_975_365) == "256,0\u00a0млн\u00a0₽"
    assert fmt.money_short(255_975_365, "en") == "₽256.0M"
    assert fmt.signed_pct(-0.03) == "\u22123,0\u00a0%"
    assert layout.delta_text(-0.03) == "-3,0\u00a0%", "st.metric needs an ASCII minus for its arrow"
    assert layout.delta_text(0.012, "pp") == "+1,2\u00a0п.\u00a0п."
    # Regression: an unchanged what-if ROI showed a green up arrow at "+0,0 п. п.".
    assert layout.no_change(layout.delta_text(0.0001, "pp")) and layout.no_change(layout.delta_text(-0.0001))
    assert not layout.no_change(layout.delta_text(0.001, "pp")) and not layout.no_change(None)


def test_markdown_escape_keeps_crm_text_literal() -> None:
    raw = "**Жирный** [x](http://e) :red[z] $5 <b>html</b> `code`"
    escaped = fmt.md_escape(raw)
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)  # drop every backslash-escaped mark
    assert not re.search(r"[!-/:-@\[-`{-~]", bare), "every ASCII punctuation mark is escaped"
    assert re.sub(r"\\(.)", r"\1", escaped).replace(fmt.WORD_JOINER, "") == raw
    assert fmt.md_escape("a\nb\tc") == "a b c"
    assert fmt.md_escape("см. http://evil.example") == fmt.plain("см. http://evil.example")  # one rule for both


# ---------- anomalies ----------

def test_robust_band_ignores_one_spike() -> None:
    low, high = changes.robust_band([100, 102, 98, 101, 500])
    assert low < 100 < high < 150


def test_flag_marks_values_outside_the_band() -> None:
    series = pd.DataFrame({"period": pd.date_range("2025-01-01", periods=8, freq="MS").date,
                           "value": [100, 104, 97, 101, 99, 103, 400, 100]})
    flagged = changes.flag(series)
    assert flagged["is_anomaly"].tolist() == [False] * 6 + [True, False]
    assert flagged["band_low"].iloc[:4].isna().all(), "no verdict without enough history"


def test_trend_direction() -> None:
    assert changes.direction([1, 1, 1, 2, 2, 2]) == "up"
    assert changes.direction([2, 2, 2, 1, 1, 1]) == "down"
    assert changes.direction([1, 1.01, 1, 1, 1.02, 1]) == "flat"
    assert changes.direction([5]) == "flat"


def test_recommended_actions_follow_what_is_good() -> None:
    assert trends.action("cpa", "up") == trends.TEXT["ru"]["act.cpa"]
    assert trends.action("cpa", "down") == trends.TEXT["ru"]["act.down.good"]
    assert trends.action("revenue", "down") == trends.TEXT["ru"]["act.revenue"]
    assert trends.action("revenue", "up") == trends.TEXT["ru"]["act.up.good"]
    # the trends page cuts its buckets with maturity's rule (one home for a bucket's first and last day)
    assert maturity.bucket_end(date(2024, 2, 1), "month") == date(2024, 2, 29)
    assert maturity.bucket_end(date(2024, 12, 30), "week") == date(2025, 1, 5)
    assert maturity.bucket_start(date(2025, 1, 2), "week") == date(2024, 12, 30)
    assert maturity.bucket_start(date(2024, 2, 29), "month") == date(2024, 2, 1)
    assert maturity.bucket_start(date(2024, 8, 15), "quarter") == date(2024, 7, 1)


# ---------- ranking, movers, ordering ----------

def _board() -> pd.DataFrame:
    return pd.DataFrame({
        "partner_id": [1.0, 2.0, 3.0, None], "partner": ["A", "B", "Tiny", None],
        "model": ["referral", "sales", "service", "direct"],
        "conversion": [0.2, 0.3, 0.9, 0.25], "conversion_low": [0.18, 0.2, 0.3, 0.2],
        "too_few": [False, False, True, False],
    })


def test_leaderboard_never_ranks_small_partners_or_direct() -> None:
    ranked = partners.sort_leaderboard(_board(), "conversion", by_lower=False)
    assert ranked["partner"].tolist()[:3] == ["B", "A", "Tiny"]
    assert pd.isna(ranked["partner_id"].iloc[-1]), "direct is the last row"
    assert ranked["rank"].iloc[:2].tolist() == [1, 2]
    assert ranked["rank"].iloc[2:].isna().all()
    cautious = partners.sort_leaderboard(_board(), "conversion", by_lower=True)
    assert cautious["partner"].tolist()[:2] == ["B", "A"]


def test_week_movers_by_absolute_change() -> None:
    def rows(pids: list[int], names: list[str], revenue: list[float | None], leads: list[int]) -> pd.DataFrame:
        return pd.DataFrame({"partner_id": pids, "partner": names, "model": "referral", "revenue": revenue,
                             "leads": leads, "too_few": False})

    now = rows([1, 2, 4], ["A", "B", "D"], [100.0, None, 50.0], [3, 1, 2])
    before = rows([1, 3, 4], ["A", "C", "D"], [100.0, 500.0, 50.0], [2, 4, 2])
    movers = changes.movers_frame(now, before)
    assert movers["partner"].tolist() == ["C", "A", "B"], "revenue first, then leads (ties in id order); D did not move"
    assert movers["change"].tolist() == [-500.0, 0.0, 0.0]


def test_quality_rows_with_too_few_leads_go_last() -> None:
    rows = pd.DataFrame({"quality_score": [90.0, 60.0, 70.0], "junk_share": [0.0, 0.1, 0.2],
                         "too_few": [True, False, False]})
    assert quality.order_rows(rows, "quality_score")["quality_score"].tolist() == [70.0, 60.0, 90.0]
    assert quality.order_rows(rows, "junk_share")["junk_share"].tolist() == [0.1, 0.2, 0.0]


# ---------- texts ----------

@pytest.mark.parametrize("module", [overview, partners, models, trends, quality, filters, layout, periods, freshness])
def test_every_text_exists_in_both_languages(module) -> None:
    ru, en = module.TEXT["ru"], module.TEXT["en"]
    assert set(ru) == set(en)
    assert all(v for v in [*ru.values(), *en.values()])


def test_every_model_has_strengths_and_weaknesses() -> None:
    for code in ("ru", "en"):
        for model in ("referral", "sales", "service", "direct"):
            assert models.TEXT[code][f"{model}.pros"] and models.TEXT[code][f"{model}.cons"]
            assert models.TEXT[code][f"{model}.watch"]


def test_one_palette_for_models_and_bands() -> None:
    assert set(palette.BAND_COLORS) == set(palette.BANDS)
    assert palette.MODEL_COLORS["referral"] == palette.PALETTE[0]


@pytest.mark.parametrize("code", ["ru", "en"])
@pytest.mark.parametrize("big", [False, True])
def test_a_chart_spec_with_the_cached_theme_is_the_styled_spec(monkeypatch: pytest.MonkeyPatch, code: str,
                                                               big: bool) -> None:
    """show() adds the theme built once per language and mode: the same spec style() would give, valid."""
    monkeypatch.setattr(charts, "lang", lambda: code)
    rows = pd.DataFrame({"partner": ["A", "B"], "conversion": [0.1, 0.3], "conversion_low": [0.05, 0.2],
                         "conversion_high": [0.2, 0.4], "leads": [100, 20], "too_few": [False, True],
                         "roi": [0.5, -1.0], "roi_band": ["profitable", "loss"]})
    for chart in (charts.conversion_intervals(rows, "partner", "Conv", "few"), charts.roi_bars(rows, "partner", "ROI")):
        fast = chart.to_dict(validate=False)
        fast["config"] = charts._theme(code, big)
        assert fast == charts.style(chart, big).to_dict(validate=True)


def test_every_table_shows_a_dash_for_missing_values() -> None:
    """Regression: st.dataframe printed a missing value as the word "None" (e.g. the rank of an unranked partner)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in [*root.glob("pages/*.py"), *root.glob("ui/*.py")]:
        text = path.read_text(encoding="utf-8")
        for start in [m.start() for m in re.finditer(r"st\.dataframe\(", text)]:
            depth, end = 0, start + len("st.dataframe")
            while True:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            assert "placeholder=fmt.DASH" in text[start:end], f"{path.name}: {text[start:start + 60]}…"
