"""Open-deal pipeline: win probability by stage from hand-made stage histories, pooling of small partner
samples toward the stage, Monte Carlo P10/P50/P90, and the same through the database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_layer import normalise as n
from data_layer import save, store
from metrics import pipeline_forecast as pf
from metrics.filters import Filters

K, S = pf.PRIOR_STRENGTH, pf.STAGE_PRIOR


def history(rows: list[tuple[int, int | None, str, int, int]]) -> pd.DataFrame:
    """Stage history rows (status_id, partner_id, model, reached, won) of pipeline 1."""
    df = pd.DataFrame(rows, columns=["status_id", "partner_id", "model", "reached", "won"])
    return df.assign(pipeline_id=1)


def deals(rows: list[tuple[int, int, int | None, str, float]]) -> pd.DataFrame:
    """Open deals (lead_id, status_id, partner_id, model, amount) of pipeline 1."""
    df = pd.DataFrame(rows, columns=["lead_id", "status_id", "partner_id", "model", "amount"])
    return df.assign(pipeline_id=1, stage=df["status_id"].astype(str), stage_sort=df["status_id"],
                     partner=df["partner_id"].map(lambda p: None if pd.isna(p) else f"P{int(p)}"))


RATES = pd.DataFrame({"pipeline_id": [1], "closed": [30], "won": [10]})
P_BASE = 11 / 32  # (won + 1) / (closed + 2)


def test_stage_rate_is_the_share_won_pulled_slightly_toward_the_pipeline() -> None:
    hist = history([(101, None, "direct", 30, 10), (102, None, "direct", 20, 10)])
    stages = pf.stage_rates(hist, RATES).set_index("status_id")
    assert stages.at[101, "p_stage"] == pytest.approx((10 + S * P_BASE) / (30 + S))
    assert stages.at[102, "p_stage"] == pytest.approx((10 + S * P_BASE) / (20 + S))
    assert stages.at[102, "p_stage"] > stages.at[101, "p_stage"], "a later stage wins more often"


def test_a_small_partner_sample_is_pulled_toward_its_model_and_stage() -> None:
    hist = history([(102, None, "direct", 100, 50), (102, 7, "referral", 2, 2), (102, 8, "referral", 200, 20)])
    out = pf.win_probabilities(deals([(1, 102, 7, "referral", 1000.0), (2, 102, 8, "referral", 1000.0),
                                      (3, 102, None, "direct", 1000.0)]), hist, RATES).set_index("lead_id")
    p_stage = (72 + S * P_BASE) / (302 + S)
    p_ref = (22 + K * p_stage) / (202 + K)
    assert out.at[1, "p_stage"] == pytest.approx(p_stage)
    assert out.at[1, "p_model"] == pytest.approx(p_ref)
    assert out.at[1, "p_win"] == pytest.approx((2 + K * p_ref) / (2 + K))     # 2 of 2 won: not 100 %
    assert out.at[1, "p_win"] < 0.3
    assert out.at[2, "p_win"] == pytest.approx((20 + K * p_ref) / (200 + K))  # big sample: close to 10 %
    assert out.at[3, "p_win"] == pytest.approx((50 + K * p_stage) / (100 + K))
    assert out.at[1, "expected"] == pytest.approx(1000 * out.at[1, "p_win"])


def test_a_stage_nobody_closed_from_gets_the_pipeline_rate() -> None:
    out = pf.win_probabilities(deals([(1, 999, None, "direct", 10.0)]), history([(101, None, "direct", 30, 10)]),
                               RATES)
    assert out.at[0, "p_stage"] == pytest.approx(P_BASE)
    assert out.at[0, "p_win"] == pytest.approx(P_BASE)


def test_monte_carlo_spread_is_centred_on_the_expected_revenue() -> None:
    rng = np.random.default_rng(0)
    d = deals([(i, 101 + i % 2, None, "direct", float(a)) for i, a in enumerate(rng.integers(1, 100, 300) * 1000)])
    d = pf.win_probabilities(d, history([(101, None, "direct", 400, 100), (102, None, "direct", 300, 150)]), RATES)
    stages = pf.stage_rates(history([(101, None, "direct", 400, 100), (102, None, "direct", 300, 150)]), RATES)
    _, by_group, total = pf.summarise(d, stages, "model", n_sims=3000)
    assert total["p10"] < total["expected"] < total["p90"]
    assert total["p50"] == pytest.approx(total["expected"], rel=0.05)
    assert total["deals"] == 300 and total["amount"] == pytest.approx(d["amount"].sum())
    assert by_group.loc[0, "group"] == "direct" and by_group.loc[0, "p50"] == pytest.approx(total["p50"])


def test_certain_and_impossible_wins() -> None:
    d = deals([(1, 101, None, "direct", 500.0), (2, 101, None, "direct", 700.0)]).assign(a=1e9, b=1e-9)
    assert np.allclose(pf.simulate(d, "model", n_sims=50)["__total__"], 1200.0)
    d = d.assign(a=1e-9, b=1e9)
    assert np.allclose(pf.simulate(d, "model", n_sims=50)["__total__"], 0.0)


def test_large_cells_use_the_normal_approximation_with_the_same_mean() -> None:
    d = deals([(i, 101, None, "direct", 100.0) for i in range(500)]).assign(a=30.0, b=70.0)
    draws = pf.simulate(d, "model", n_sims=4000)["__total__"]
    assert draws.mean() == pytest.approx(0.3 * 50_000, rel=0.02)
    assert (draws >= 0).all() and (draws <= 50_000).all()


# ---------- through the database ----------

STATUSES = [{"id": 101, "name": "Контакт", "sort": 10, "type": 0, "pipeline_id": 1},
            {"id": 102, "name": "Договор", "sort": 20, "type": 0, "pipeline_id": 1},
            {"id": 142, "name": "Успешно", "sort": 10000, "type": 0, "pipeline_id": 1},
            {"id": 143, "name": "Закрыто", "sort": 11000, "type": 0, "pipeline_id": 1}]
PIPELINES = [{"id": 1, "name": "Продажи", "sort": 1, "is_main": True, "_embedded": {"statuses": STATUSES}}]
ACCOUNT = {"id": 1, "name": "Тест", "currency": "RUB",
           "_embedded": {"datetime_settings": {"timezone": "Europe/Moscow"}}}
T0 = 1748736000  # 2025-06-01 00:00 UTC


def _lead(lead_id: int, status: int, price: int = 1000, partner: str | None = None) -> dict:
    cfv = None if partner is None else [{"field_id": 501, "field_name": "Партнёр", "field_type": "text",
                                         "values": [{"value": partner}]}]
    closed = T0 + 86400 * 10 if status in (142, 143) else None
    return {"id": lead_id, "name": f"Сделка {lead_id}", "price": price, "status_id": status, "pipeline_id": 1,
            "created_at": T0, "updated_at": T0 + 10, "closed_at": closed, "custom_fields_values": cfv}


def _move(eid: str, lead_id: int, before: int, after: int, at: int) -> dict:
    return {"id": eid, "type": "lead_status_changed", "entity_id": lead_id, "entity_type": "lead", "created_at": at,
            "value_before": [{"lead_status": {"id": before, "pipeline_id": 1}}],
            "value_after": [{"lead_status": {"id": after, "pipeline_id": 1}}]}


def _build(path: Path) -> None:
    """30 closed leads: 10 lost at stage 101, 10 won and 10 lost after reaching 102; 3 open deals."""
    leads, events = [], []
    for i in range(30):
        lid = 1000 + i
        path_ = [101, 143] if i < 10 else [101, 102, 142] if i < 20 else [101, 102, 143]
        leads.append(_lead(lid, path_[-1], partner="Альфа" if i % 2 else None))
        steps = zip(path_, path_[1:], strict=False)
        events += [_move(f"e{lid}-{k}", lid, a, b, T0 + k * 3600) for k, (a, b) in enumerate(steps)]
    leads += [_lead(2001, 101, 1000), _lead(2002, 102, 3000), _lead(2003, 102, 0, partner="Альфа")]
    with store.connect(path) as con:
        con.execute("begin")
        save.save_batch(con, n.merge(n.normalise_account(ACCOUNT), n.normalise_pipelines(PIPELINES),
                                     n.normalise_leads(leads), n.normalise_events(events)))
        con.execute("commit")
    store.refresh_derived(path)


def test_pipeline_forecast_from_stage_history_in_the_database(tmp_db: Path) -> None:
    _build(tmp_db)
    f = Filters(date(2025, 1, 1), date(2025, 12, 31))
    with store.connect(tmp_db, read_only=True) as con:
        res = pf.pipeline_forecast(con, f, "model", n_sims=2000)
        partner_only = pf.pipeline_forecast(con, Filters(date(2025, 1, 1), date(2025, 12, 31), models=("direct",)))
    assert res.closed == 30
    stages = res.by_stage.set_index("status_id")
    assert stages.at[101, "history"] == 30 and stages.at[102, "history"] == 20
    assert stages.at[101, "p_stage"] == pytest.approx((10 + S * P_BASE) / (30 + S))
    assert stages.at[102, "p_stage"] == pytest.approx((10 + S * P_BASE) / (20 + S))
    assert res.total["deals"] == 3 and res.total["amount"] == 4000 and res.total["without_amount"] == 1
    assert res.total["p10"] <= res.total["expected"] <= res.total["p90"]
    assert set(res.by_group["group"]) == {"direct", "unassigned"}   # Альфа was created by the sync, no model yet
    assert set(partner_only.deals["lead_id"]) == {2001, 2002}


def test_no_open_deals_gives_zeros(tmp_db: Path) -> None:
    _build(tmp_db)
    with store.connect(tmp_db, read_only=True) as con:
        res = pf.pipeline_forecast(con, Filters(date(2030, 1, 1), date(2030, 1, 31)))
    assert res.deals.empty and res.total["expected"] == 0 and res.total["p90"] == 0
