"""The costs page's ledger: the editor of the period's months, the CSV / XLSX import with its preview, the export.

Render only: reads through ui.data.query, every save through ui.writes.write; amounts far outside the account's
history (data_layer.plausibility) wait for a tick (ui.confirm).
"""

from __future__ import annotations

import zlib
from datetime import date

import pandas as pd
import streamlit as st

from data_layer import costs_io, plausibility, userdata
from data_layer.numbers import NUMBER_FORMATS
from data_layer.userdata import CATEGORIES, UserDataError
from metrics.filters import Filters
from presentation import fmt
from ui import auth, confirm
from ui.costs_edit import category_label, saved, show_lines, show_problems, widget_key
from ui.data import query
from ui.i18n import lang, tr
from ui.number_entry import amount_text, typed_amounts
from ui.writes import write

TEXT = {
    "ru": {
        "col.partner": "Партнёр", "col.month": "Месяц", "col.category": "Категория", "col.amount": "Сумма",
        "col.note": "Комментарий",
        "ledger.caption": "Месяцы {first} – {last}{who}. Сумма месяца распределяется по его дням; период "
                          "берёт долю дней, которую он покрывает. Удалённая строка удаляется из журнала.",
        "ledger.who": ", партнёры из фильтра",
        "ledger.none": "Партнёров пока нет — добавьте их на вкладке «Партнёры» или импортируйте файл "
                       "с «Создавать новых партнёров».",
        "amount.help": "Сумма в рублях: дробная часть через запятую (12,5), тысячи можно отделять пробелом "
                       "(1 234 567).",
        "row": "строка {n}, сумма", "unread": "Ничего не сохранено — исправьте суммы:",
        "save": "Сохранить", "saved": "Сохранено: {n} строк.",
        "import.help": "CSV (UTF-8, разделитель «,» или «;») или XLSX со столбцами partner, month, category, "
                       "amount. Месяц — ГГГГ-ММ.",
        "upload": "Файл затрат", "create": "Создавать новых партнёров",
        "create.help": "Партнёры, которых нет в справочнике, будут добавлены (без модели).",
        "add": "Прибавлять к существующим суммам",
        "add.help": "Без галочки строка файла заменяет сумму того же партнёра, месяца и категории "
                    "(повторный импорт не удваивает затраты).",
        "numbers": "Формат чисел в файле",
        "numbers.help": "Пробел всегда отделяет тысячи (1 234 567,50). Точку или запятую между тысячами "
                        "(12,500 или 1.000) без выбранного формата не угадываем — такие суммы отклоняются.",
        "numbers.auto": "Не указан", "numbers.comma": "Десятичная запятая (12,5 · 1.234,50)",
        "numbers.point": "Десятичная точка (12.5 · 1,234.50)",
        "confirm.large": "Да, эти суммы и месяцы верны — импортировать их как есть",
        "confirm.ledger": "Да, эти суммы и месяцы верны — сохранить как есть",
        "preview": "Предпросмотр: {n} строк на сумму {total}.", "preview.new": "Будут созданы партнёры: {names}.",
        "import": "Импортировать", "imported": "Импортировано строк: {n}, на сумму {total}.",
        "bad_file": "Файл не импортирован — исправьте ошибки и загрузите его снова:",
        "export": "Экспорт журнала", "export.format": "Формат",
        "fmt.csv": "CSV (UTF-8, запятая)", "fmt.excel": "CSV для Excel (точка с запятой, BOM)", "fmt.xlsx": "XLSX",
        "download": "Скачать журнал",
    },
    "en": {
        "col.partner": "Partner", "col.month": "Month", "col.category": "Category", "col.amount": "Amount",
        "col.note": "Note",
        "ledger.caption": "Months {first} – {last}{who}. A month's amount is spread over its days; a period takes "
                          "the share of days it covers. A deleted row is removed from the ledger.",
        "ledger.who": ", partners from the filter",
        "ledger.none": "There are no partners yet: add them on the Partners tab or import a file with "
                       "“Create new partners”.",
        "amount.help": "Amount in roubles: a point for decimals (12.5), commas may separate thousands (1,234,567).",
        "row": "row {n}, amount", "unread": "Nothing was saved: fix these amounts:",
        "save": "Save", "saved": "Saved: {n} rows.",
        "import.help": "CSV (UTF-8, ',' or ';' delimiter) or XLSX with columns partner, month, category, amount. "
                       "Month is YYYY-MM.",
        "upload": "Cost file", "create": "Create new partners",
        "create.help": "Partners missing from the list are added (without a model).",
        "add": "Add to existing amounts",
        "add.help": "Unticked, a file row replaces the amount of the same partner, month and category "
                    "(importing twice does not double the costs).",
        "numbers": "Number format of the file",
        "numbers.help": "A space always separates thousands (1 234 567.50). A dot or comma between thousands "
                        "(12,500 or 1.000) is not guessed without a chosen format: such amounts are refused.",
        "numbers.auto": "Not declared", "numbers.comma": "Decimal comma (12,5 · 1.234,50)",
        "numbers.point": "Decimal point (12.5 · 1,234.50)",
        "confirm.large": "Yes, these amounts and months are right: import them as they are",
        "confirm.ledger": "Yes, these amounts and months are right: save them as they are",
        "preview": "Preview: {n} rows, total {total}.", "preview.new": "Partners to create: {names}.",
        "import": "Import", "imported": "Imported {n} rows, total {total}.",
        "bad_file": "The file was not imported: fix these problems and upload it again:",
        "export": "Export the ledger", "export.format": "Format",
        "fmt.csv": "CSV (UTF-8, comma)", "fmt.excel": "CSV for Excel (semicolon, BOM)", "fmt.xlsx": "XLSX",
        "download": "Download the ledger",
    },
}

LEDGER_CONFIRM = "costs.ledger"  # ui.confirm's key of the ledger editor's pending confirmation


def month_scope(f: Filters) -> tuple[date, date]:
    """First days of the first and last month the period touches."""
    return date(f.date_from.year, f.date_from.month, 1), date(f.date_to.year, f.date_to.month, 1)


def partner_scope(f: Filters, partners: pd.DataFrame) -> tuple[int, ...] | None:
    """Partner ids the filters select (None = all partners)."""
    if not f.partners and not f.models:
        return None
    rows = partners
    if f.partners:
        rows = rows[rows["partner_id"].isin(f.partners)]
    if f.models:
        rows = rows[rows["model"].fillna("unassigned").isin(f.models)]
    return tuple(int(x) for x in rows["partner_id"])



def ledger_editor(f: Filters, partners: pd.DataFrame) -> None:
    """The ledger rows of the period's months (and filtered partners), editable, saved in one transaction."""
    code = lang()
    first, last = month_scope(f)
    ids = partner_scope(f, partners)
    st.caption(tr(TEXT, "ledger.caption", first=first.strftime("%Y-%m"), last=last.strftime("%Y-%m"),
                  who=tr(TEXT, "ledger.who") if ids is not None else ""))
    if partners.empty:
        st.info(tr(TEXT, "ledger.none"))
        return
    rows = query(userdata.read_ledger, ids, first, last)
    exact = rows["amount"].astype(float)
    frame = rows[["partner", "month", "category", "amount", "note"]].astype({"amount": object})
    frame["amount"] = [amount_text(v) for v in exact]  # text: Streamlit's number cells turn «12,5» into 125
    names = partners["name"].tolist() if ids is None else partners[partners["partner_id"].isin(ids)]["name"].tolist()
    edited = st.data_editor(
        frame, key=widget_key("editor"), num_rows="dynamic" if auth.can("edit") else "fixed", hide_index=True,
        width="stretch", disabled=not auth.can("edit"),
        column_config={
            "partner": st.column_config.SelectboxColumn(tr(TEXT, "col.partner"), options=names, required=True),
            "month": st.column_config.DateColumn(tr(TEXT, "col.month"), format="YYYY-MM", required=True,
                                                 default=first),
            "category": st.column_config.SelectboxColumn(tr(TEXT, "col.category"), options=list(CATEGORIES),
                                                         format_func=category_label, required=True),
            "amount": st.column_config.TextColumn(tr(TEXT, "col.amount") + f", {fmt.currency_symbol('RUB', code)}",
                                                  alignment="right", required=True, help=tr(TEXT, "amount.help")),
            "note": st.column_config.TextColumn(tr(TEXT, "col.note")),
        },
    )
    if not auth.can("edit"):
        return
    # the tick belongs to exactly these rows in this scope: any further edit asks again
    sig = confirm.signature(edited.to_json(date_format="iso", orient="split", default_handler=str), ids, first, last)
    slot = st.container()  # the warning and its tick go above the button that confirms them
    if st.button(tr(TEXT, "save"), key="costs.ledger_save", type="primary"):
        amounts, problems = typed_amounts(edited["amount"], frame["amount"], exact,
                                          lambda n: tr(TEXT, "row", n=n), fmt.currency_symbol("RUB", code))
        if problems:  # nothing is saved while any cell cannot be read
            show_lines(problems, tr(TEXT, "unread"))
        else:
            save_ledger(edited.assign(amount=amounts.astype(float)), ids, first, last, sig)
    with slot:
        confirm.show(LEDGER_CONFIRM, sig, tr(TEXT, "confirm.ledger"))


def save_ledger(edited: pd.DataFrame, ids: tuple[int, ...] | None, first: date, last: date, sig: str) -> None:
    """Save the editor's rows; new or changed values far outside the account's history wait for the tick."""
    try:
        n = write(plausibility.save_ledger, edited, partner_ids=ids, month_from=first, month_to=last,
                  confirmed=confirm.confirmed(LEDGER_CONFIRM, sig))
    except costs_io.ConfirmationNeeded as exc:
        confirm.ask(LEDGER_CONFIRM, sig, exc)  # shown below the button, with its box; nothing was written
    except UserDataError as exc:
        show_problems(exc)
    else:
        confirm.clear(LEDGER_CONFIRM)
        saved(tr(TEXT, "saved", n=n))


# ---------------------------------------------------------------- import / export

def import_section(currency: str) -> None:
    """Upload a CSV / XLSX, preview it with every error listed, import all rows or none."""
    code = lang()
    st.caption(tr(TEXT, "import.help"))
    upload = st.file_uploader(tr(TEXT, "upload"), type=["csv", "xlsx"], key=widget_key("upload"))
    left, right = st.columns(2)
    with left:
        create = st.checkbox(tr(TEXT, "create"), key="costs.create_partners", help=tr(TEXT, "create.help"))
    with right:
        add = st.checkbox(tr(TEXT, "add"), key="costs.add", help=tr(TEXT, "add.help"))
    number_format = st.radio(tr(TEXT, "numbers"), list(NUMBER_FORMATS), key="costs.number_format",
                             format_func=lambda k: tr(TEXT, f"numbers.{k}"), horizontal=True,
                             help=tr(TEXT, "numbers.help"))
    if upload is None:
        return
    data, name = upload.getvalue(), upload.name
    try:
        parsed = query(costs_io.parse_costs, data, name, create, number_format)
    except UserDataError as exc:
        show_problems(exc, tr(TEXT, "bad_file"))
        return
    st.write(tr(TEXT, "preview", n=len(parsed.rows), total=fmt.money(parsed.total, code, currency)))
    if parsed.new_partners:
        st.caption(fmt.md_escape(tr(TEXT, "preview.new", names=", ".join(parsed.new_partners))))
    st.dataframe(pd.DataFrame({
        "#": parsed.rows["line"],
        tr(TEXT, "col.partner"): parsed.rows["partner"].astype(str),
        tr(TEXT, "col.month"): [m.strftime("%Y-%m") for m in parsed.rows["month"]],
        tr(TEXT, "col.category"): parsed.rows["category"].map(category_label),
        tr(TEXT, "col.amount"): [fmt.money(v, code, currency, 2) for v in parsed.rows["amount"]],
    }), hide_index=True, key="costs.preview", placeholder=fmt.DASH)
    confirmed = confirm_large(parsed, data)
    if st.button(tr(TEXT, "import"), key="costs.import", type="primary"):
        try:
            result = write(costs_io.import_file, data, name, create_partners=create, add=add,
                           number_format=number_format, confirmed=confirmed)
        except costs_io.ConfirmationNeeded as exc:
            confirm.warn(exc)
        except UserDataError as exc:
            show_problems(exc, tr(TEXT, "bad_file"))
        else:
            saved(tr(TEXT, "imported", n=result.rows, total=fmt.money(result.total, code, currency)))


def confirm_large(parsed: costs_io.ParsedCosts, data: bytes) -> bool:
    """Amounts or months far outside the account's history (data_layer.plausibility): say so, ask for a tick."""
    if not parsed.warnings:
        return False
    confirm.warn(costs_io.ConfirmationNeeded(parsed.warnings))
    # the key follows the file, so a tick given for one file never confirms another
    return st.checkbox(tr(TEXT, "confirm.large"), key=f"{widget_key('confirm_large')}.{zlib.crc32(data):08x}")


def export_section() -> None:
    """Download the whole ledger as CSV, CSV for Excel or XLSX."""
    st.markdown(f"**{tr(TEXT, 'export')}**")
    choice = st.radio(tr(TEXT, "export.format"), ["csv", "excel", "xlsx"], key="costs.export_format",
                      format_func=lambda k: tr(TEXT, f"fmt.{k}"), horizontal=True)
    filename = "costs.xlsx" if choice == "xlsx" else "costs.csv"
    data = query(costs_io.export_bytes, filename, choice == "excel")
    mime = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if choice == "xlsx"
            else "text/csv")
    st.download_button(tr(TEXT, "download"), data=data, file_name=filename, mime=mime, key="costs.download",
                       icon=":material/download:")
