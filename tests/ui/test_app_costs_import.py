"""The upload flow of the costs page (AppTest): declared number format, confirmation of implausible amounts."""

from __future__ import annotations

import zlib
from pathlib import Path

from support.costs_page import ALPHA, app, errors, last_month

from data_layer import store, userdata


def amounts(path: Path) -> list[float]:
    with store.connect(path, read_only=True) as con:
        return sorted(float(a) for a in userdata.read_ledger(con)["amount"])


def test_grouped_amount_is_refused_until_the_number_format_is_declared(costs_db: Path) -> None:
    month = last_month().strftime("%Y-%m")
    data = f'partner,month,category,amount\n\'{ALPHA},{month},bonus,"12,500"\n'.encode()
    at = app()
    at.file_uploader(key="costs.upload").set_value(("costs.csv", data, "text/csv"))
    at.run()
    assert "неоднозначна" in errors(at) and "строка 2" in errors(at)
    assert not [b for b in at.button if b.key == "costs.import"]
    at.radio(key="costs.number_format").set_value("comma").run()
    assert not at.error, errors(at)
    preview = next(f.value for f in at.dataframe if "#" in f.value.columns)
    assert preview["Сумма"].tolist() == ["12,50\u00a0₽"]
    at.button(key="costs.import").click().run()
    assert any("Импортировано строк: 1" in s.value for s in at.success)
    assert amounts(costs_db) == [12.5, 300.0, 400.0]


def test_implausible_amount_needs_the_tick_and_nothing_is_written_without_it(costs_db: Path) -> None:
    month = last_month().strftime("%Y-%m")
    data = f"partner;month;category;amount\n'{ALPHA};{month};bonus;7 000 000\n".encode()
    before = amounts(costs_db)
    at = app()
    at.file_uploader(key="costs.upload").set_value(("costs.csv", data, "text/csv"))
    at.run()
    assert not at.error, errors(at)
    warning = "\n".join(w.value for w in at.warning).replace("\\", "")
    assert "это в 10 000 раз больше всех затрат за последний год журнала (700 ₽)" in warning  # md_escape: plain spaces
    at.button(key="costs.import").click().run()
    assert amounts(costs_db) == before                                   # no tick: nothing written
    assert any("Ничего не записано" in w.value for w in at.warning)
    at.checkbox(key=f"costs.confirm_large.{zlib.crc32(data):08x}").check().run()
    at.button(key="costs.import").click().run()
    assert any("Импортировано строк: 1" in s.value for s in at.success), errors(at)
    assert amounts(costs_db) == sorted([*before, 7_000_000.0])
