"""`python -m metrics.sql`: list, inputs, show (and --runnable, whose script returns the engine's rows); the
template inputs' whitelists and strict undefined names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from data_layer.demo import load_demo
from metrics import engine, fetch, maturity, payback, query, sql
from metrics.filters import Filters
from metrics.sql import __main__ as cli
from metrics.sql import relations

PERIOD = Filters(date(2025, 1, 1), date(2025, 6, 30))
DATES = ["--from", "2025-01-01", "--to", "2025-06-30"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sql-show") / "demo.duckdb"
    load_demo(path, n_leads=1500, seed=11, end_date=date(2025, 6, 30))
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def engine_frames(path: Path, name: str, call: Callable[[duckdb.DuckDBPyConnection], Any],
                  monkeypatch: pytest.MonkeyPatch) -> list[pd.DataFrame]:
    """The result frames of every query `name` the engine call runs (copied before post-processing)."""
    got: list[pd.DataFrame] = []
    real = query.execute

    def spy(con: duckdb.DuckDBPyConnection, q: query.Prepared) -> pd.DataFrame:
        df = real(con, q)
        if q.name == name:
            got.append(df.copy())
        return df

    with monkeypatch.context() as m:
        m.setattr(query, "execute", spy)
        con = duckdb.connect(str(path), read_only=True)
        try:
            call(con)
        finally:
            con.close()
    return got


def test_list_names_every_query_with_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "list")
    lines = out.strip().splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == list(sql.names())
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)
    assert not any(name.startswith("_") for name in sql.names())  # fragments are not queries


def test_inputs_documents_every_relation_and_what_a_query_reads(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "inputs")
    assert code == 0
    for rel in relations.RELATIONS:
        assert f"{rel.name}: " in out and rel.bound_by in out
    _, kpis, _ = run_cli(capsys, "inputs", "kpis")
    for name in ("m_ledger", "m_rules", "m_rule_spans", "m_tier_rates"):
        assert f"{name}: " in kpis
    assert "m_close_curve" not in kpis
    assert "m_close_curve: " in run_cli(capsys, "inputs", "maturity")[1]
    assert "reads no input relation" in run_cli(capsys, "inputs", "funnel")[1]


def test_show_prints_the_engines_text_and_its_parameters(demo: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[query.Prepared] = []
    real = query.execute
    monkeypatch.setattr(query, "execute", lambda con, q: ran.append(q) or real(con, q))
    code, out, _ = run_cli(capsys, "show", "kpis", "--by", "partner", *DATES, "--db", str(demo))
    monkeypatch.setattr(query, "execute", real)
    kpis = [q for q in ran if q.name == "kpis"]
    assert code == 0 and len(kpis) == 1
    assert kpis[0].text.rstrip() in out
    assert "-- template inputs: " in out and "keys={partner: all, model: none" in out
    assert "--   $date_from = DATE '2025-01-01'" in out and "--   $min_leads = " in out
    # the same text the engine renders for that frame
    assert kpis[0].text == query.prepare("kpis", kpis[0].params, kpis[0].inputs).text


def _cases(demo: Path) -> list[tuple[str, list[str], Callable[[duckdb.DuckDBPyConnection], Any]]]:
    close = replace(PERIOD, view="close")
    referral = replace(PERIOD, models=("referral",))
    with duckdb.connect(str(demo), read_only=True) as con:
        pid = con.execute("select min(partner_id) from partners").fetchone()[0]
    mine = replace(PERIOD, partners=(pid,))
    return [
        ("kpis", ["--by", "partner"], lambda con: engine.kpis(con, PERIOD, "partner")),
        ("kpis", ["--by", "model"], lambda con: engine.kpis(con, PERIOD, "model")),
        ("kpis", ["--by", "month"], lambda con: engine.kpis(con, PERIOD, "month")),
        ("kpis", ["--by", "partner", "--close-view"], lambda con: engine.kpis(con, close, "partner")),
        ("kpis", ["--model", "referral"], lambda con: engine.kpis(con, referral, "none")),
        ("monthly", ["--by", "model"], lambda con: engine.monthly(con, PERIOD, "model")),
        ("quality", ["--by", "source"], lambda con: engine.quality(con, PERIOD, "source")),
        ("roi_units", ["--by", "partner", "--close-view"], lambda con: engine.roi_interval(con, close, "partner")),
        ("deals", ["--partner", str(pid)], lambda con: engine.deals(con, mine, pid)),
        ("funnel", [], lambda con: engine.funnel(con, PERIOD)),
        ("payback", ["--model", "referral"], lambda con: payback.curves(con, referral, "referral")),
        # reads m_close_curve; the shortfalls of the tests' reference path
        ("maturity", ["--by", "month"], lambda con: maturity.annotate(
            con, [(PERIOD, ("month",))], [engine.grouped(con, PERIOD, "month")], maturity.direct_shortfalls)),
    ]


@pytest.mark.parametrize("case", range(12))
def test_the_runnable_script_returns_the_rows_the_engine_computes(demo: Path, case: int,
                                                                   capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    name, flags, call = _cases(demo)[case]
    code, script, err = run_cli(capsys, "show", name, *flags, *DATES, "--db", str(demo), "--runnable")
    assert code == 0, err
    prepared, execute = script.rsplit("\nexecute ", 1)
    assert "2025-06-30" not in prepared and "2025-06-30" in execute  # values only in the EXECUTE
    want = engine_frames(demo, name, call, monkeypatch)
    assert len(want) == 1
    con = duckdb.connect(str(demo), read_only=True)
    try:
        got = fetch.frame(con.execute(script))
    finally:
        con.close()
    assert len(got) == len(want[0])
    pd.testing.assert_frame_equal(_ordered(got), _ordered(want[0]))


def _ordered(df: pd.DataFrame) -> pd.DataFrame:
    """Rows by their keys: monthly.sql and quality.sql leave the order to pandas."""
    keys = [c for c in df.columns if c == "sid" or c.startswith("k_")]
    return df.sort_values(keys, kind="stable").reset_index(drop=True) if keys else df


@pytest.mark.parametrize("argv, says", [
    (["show", "nope"], "Unknown query 'nope'"),
    (["show", "kpis", "--by", "year"], "Unknown grouping 'year'"),
    (["show", "kpis", "--from", "2025-02-30"], "is not a date"),
    (["show", "kpis", "--to", "yesterday"], "is not a date"),
    (["show", "funnel", "--by", "partner"], "does not group"),
    (["show", "kpis", "--model", "nonsense"], "Unknown model"),
    (["inputs", "nope"], "Unknown query 'nope'"),
    (["show", "forecast_counts", "--runnable"], "bound by its caller"),
])
def test_bad_arguments_are_one_sentence_and_exit_2(demo: Path, capsys: pytest.CaptureFixture[str],
                                                   argv: list[str], says: str) -> None:
    code, out, err = run_cli(capsys, *argv, *(["--db", str(demo)] if argv[0] == "show" else []))
    assert code == 2 and out == "" and says in err and len(err.strip().splitlines()) == 1


def test_a_missing_database_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "show", "kpis", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and "does not exist" in err


def test_a_missing_template_input_raises() -> None:
    with pytest.raises(sql.TemplateInputError, match="needs a template input"):
        sql.render("kpis", {})
    with pytest.raises(sql.TemplateInputError, match="won_only"):  # every other input given
        sql.render("deals", {k: v for k, v in sql.full_inputs("deals").items() if k != "won_only"})
    with pytest.raises(sql.TemplateInputError, match="by_lead"):
        sql.render("quality", sql.plain_inputs(("partner",)))


@pytest.mark.parametrize("inputs", [
    {"colour": True},
    {"keys": {"partner": "partner_id; drop table leads", "model": "none", "pipeline": "none", "source": "none"}},
    {"keys": {"partner": "all"}},
    {"period": "year"},
    {"period": "d - 1"},
    {"deal_views": ("open",)},
    {"deal_views": ()},
    {"detailed": "true"},
    {"won_only": 1},
    {"roll": {"partner": "all", "model": "none", "pipeline": "none", "source": "none"}},
])
def test_template_inputs_outside_their_whitelists_are_refused(inputs: dict[str, Any]) -> None:
    with pytest.raises(sql.TemplateInputError, match="emplate input"):
        sql.render("kpis", {**sql.full_inputs("kpis"), **inputs})


@pytest.mark.parametrize("name", sql.names())
def test_every_listed_query_renders_to_sql_duckdb_parses(name: str) -> None:
    con = duckdb.connect()
    variants = [sql.full_inputs(name)]
    if "deal_views" in variants[0]:  # the pruned shapes too: one view, no optional part
        for views in (("cohort",), ("close",)):
            variants.append({**variants[0], "deal_views": views, "detailed": False, "narrowed": False,
                             "lost_leads": False, "clients": False})
    if "by_lead" in variants[0] or "won_only" in variants[0]:
        variants.append({**variants[0], **{k: False for k in ("by_lead", "won_only") if k in variants[0]}})
    for inputs in variants:
        text = sql.render(name, inputs)
        assert "{{" not in text and "{%" not in text
        assert len(con.extract_statements(text)) == 1  # parses (a syntax error raises)
