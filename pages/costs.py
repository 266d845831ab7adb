"""Costs & commissions: the cost ledger (edit, import, export), partners, commission rules, computed commissions.

Render only: reads go through ui.data.query, every save through ui.writes.write (one transaction, then the data
version is bumped). Validation errors come back from data_layer.userdata as sentences in the UI language.
"""

from __future__ import annotations

import zlib
from datetime import date

import pandas as pd
import streamlit as st

from data_layer import costs_io, plausibility, userdata
from data_layer.numbers import NUMBER_FORMATS
from data_layer.userdata import CATEGORIES, MODELS, UserDataError
from metrics import engine, lookups
from metrics.filters import Filters
from presentation import fmt
from ui import auth, charts, confirm, layout, payouts_panel
from ui.data import query
from ui.filters import current, period_label
from ui.i18n import lang, model_label, t, tr
from ui.number_entry import amount_text, typed_amounts
from ui.rules_editor import rules_table
from ui.tiers_editor import tiers_text
from ui.writes import write

TEXT = {
    "ru": {
        "caption": "Период: {period} · журнал затрат хранит суммы по партнёру × месяцу × категории; комиссии "
                   "по правилам считаются из сделок и показываются отдельной строкой.",
        "summary": "Затраты по категориям", "summary.total": "Всего затрат за период: {total}",
        "summary.note": "«Комиссия по правилам» вычислена из сделок и лидов по правилам комиссий; «Комиссия» — "
                        "суммы, внесённые в журнал вручную. Если вы вносите выплаченную комиссию в журнал, "
                        "не задавайте для неё правило — иначе она посчитается дважды.",
        "summary.axis": "Сумма", "col.category": "Категория", "col.amount": "Сумма", "col.share": "Доля",
        "tab.ledger": "Журнал затрат", "tab.import": "Импорт и экспорт", "tab.partners": "Партнёры",
        "tab.rules": "Правила комиссий", "tab.commissions": "Начисленные комиссии",
        "tab.payouts": "Выплаты партнёрам",
        "ledger.caption": "Месяцы {first} – {last}{who}. Сумма месяца распределяется по его дням; период "
                          "берёт долю дней, которую он покрывает. Удалённая строка удаляется из журнала.",
        "ledger.who": ", партнёры из фильтра",
        "ledger.none": "Партнёров пока нет — добавьте их на вкладке «Партнёры» или импортируйте файл "
                       "с «Создавать новых партнёров».",
        "col.partner": "Партнёр", "col.month": "Месяц", "col.note": "Комментарий",
        "amount.help": "Сумма в рублях: дробная часть через запятую (12,5), тысячи можно отделять пробелом "
                       "(1 234 567).",
        "row": "строка {n}, сумма", "unread": "Ничего не сохранено — исправьте суммы:",
        "save": "Сохранить", "saved": "Сохранено: {n} строк.", "saved.partners": "Партнёры сохранены ({n}).",
        "saved.rules": "Правила сохранены ({n}).",
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
        "partners.caption": "Модель, заданная здесь, помечается как ручная и не перезаписывается синхронизацией. "
                            "Псевдонимы через запятую — по ним лиды сопоставляются с партнёром (регистр и ё/е "
                            "не важны).",
        "col.name": "Название", "col.model": "Модель", "col.source": "Модель задана", "col.aliases": "Псевдонимы",
        "col.manager": "Менеджер", "col.start": "Начало работы", "col.active": "Активен",
        "src.user": "вручную", "src.crm": "из CRM",
        "rules.caption": "Правило модели действует для всех её партнёров. Правило партнёра на свои даты "
                         "полностью заменяет правила его модели. Ставка: для процента от выручки — проценты "
                         "(10 = 10 %), для фиксированных — сумма за сделку или квалифицированного лида. "
                         "Нет правил — нет начисленной комиссии.",
        "rules.tiers": "Ступени — прогрессивная шкала по месячной выручке партнёра, строками под таблицей: до "
                       "1 000 000 ₽ — 10 %, и выше — 15 % значит 10 % с первого миллиона в месяц и 15 % со всего "
                       "сверх него (по частям, как налоговая шкала) или, «на всю выручку месяца», 15 % со всей "
                       "выручки месяца, перешедшей миллион. Ступени заменяют ставку.",
        "kind.percent_revenue": "% от выручки сделки", "kind.fixed_per_deal": "Сумма за сделку",
        "kind.fixed_per_qualified_lead": "Сумма за квалиф. лид",
        "commissions.caption": "Как посчитаны комиссии за период по каждому правилу (отдельная строка затрат, не из "
                               "журнала): выручка выигранных сделок × ставка или число сделок / квалифицированных "
                               "лидов × сумма.",
        "commissions.none": "За период нет начисленных комиссий: нет правил или нет сделок и квалифицированных "
                            "лидов у партнёров с правилами.",
        "commissions.total": "Итого комиссий по правилам: {total}",
        "col.months": "Месяцы", "scope.model": "правило модели", "scope.partner": "правило партнёра",
        "how.tiers": "ступени {kind}: {tiers}",
        "how.kind.whole": "на всю выручку месяца", "how.kind.marginal": "по частям",
        "col.rule": "Правило", "col.commission": "Комиссия", "col.how": "Как посчитано",
    },
    "en": {
        "caption": "Period: {period} · the ledger holds amounts per partner × month × category; commissions by "
                   "rules are computed from deals and shown as a separate line.",
        "summary": "Costs by category", "summary.total": "Total costs in the period: {total}",
        "summary.note": "“Commission by rules” is computed from deals and leads by the commission rules; "
                        "“Commission” is what was entered in the ledger. If you enter paid commission in the "
                        "ledger, do not also set a rule for it, or it counts twice.",
        "summary.axis": "Amount", "col.category": "Category", "col.amount": "Amount", "col.share": "Share",
        "tab.ledger": "Cost ledger", "tab.import": "Import & export", "tab.partners": "Partners",
        "tab.rules": "Commission rules", "tab.commissions": "Computed commissions",
        "tab.payouts": "Partner payouts",
        "ledger.caption": "Months {first} – {last}{who}. A month's amount is spread over its days; a period takes "
                          "the share of days it covers. A deleted row is removed from the ledger.",
        "ledger.who": ", partners from the filter",
        "ledger.none": "There are no partners yet: add them on the Partners tab or import a file with "
                       "“Create new partners”.",
        "col.partner": "Partner", "col.month": "Month", "col.note": "Note",
        "amount.help": "Amount in roubles: a point for decimals (12.5), commas may separate thousands (1,234,567).",
        "row": "row {n}, amount", "unread": "Nothing was saved: fix these amounts:",
        "save": "Save", "saved": "Saved: {n} rows.", "saved.partners": "Partners saved ({n}).",
        "saved.rules": "Rules saved ({n}).",
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
        "partners.caption": "A model set here is marked as the user's and never overwritten by a sync. Aliases, "
                            "comma-separated, match leads to the partner (case and ё/е ignored).",
        "col.name": "Name", "col.model": "Model", "col.source": "Model set", "col.aliases": "Aliases",
        "col.manager": "Manager", "col.start": "Start date", "col.active": "Active",
        "src.user": "by user", "src.crm": "from CRM",
        "rules.caption": "A model's rule applies to all its partners. A partner's rule replaces its model's rules "
                         "entirely on its dates. Rate: percent for a share of revenue (10 = 10 %), an amount for "
                         "fixed rules (per deal or per qualified lead). No rules, no computed commission.",
        "rules.tiers": "Tiers are a progressive scale over the partner's monthly revenue, as rows below the table: "
                       "up to 1,000,000 ₽ — 10 %, and above — 15 % means 10 % of the first million a month and "
                       "15 % of everything above it (in parts, like tax brackets) or, “on the whole month's "
                       "revenue”, 15 % of the whole month once it passes a million. Tiers replace the rate.",
        "kind.percent_revenue": "% of deal revenue", "kind.fixed_per_deal": "Amount per deal",
        "kind.fixed_per_qualified_lead": "Amount per qualified lead",
        "commissions.caption": "How the period's commissions were computed, rule by rule (a cost line of its "
                               "own, not from the ledger): revenue of won deals × rate, or number of deals / "
                               "qualified leads × amount.",
        "commissions.none": "No computed commissions in the period: no rules, or no deals and qualified leads of "
                            "partners with rules.",
        "commissions.total": "Total commissions by rules: {total}",
        "col.months": "Months", "scope.model": "model rule", "scope.partner": "partner rule",
        "how.tiers": "tiers {kind}: {tiers}",
        "how.kind.whole": "on the whole month", "how.kind.marginal": "in parts",
        "col.rule": "Rule", "col.commission": "Commission", "col.how": "How",
    },
}

FLASH = "costs._flash"
GEN = "costs._gen"
LEDGER_CONFIRM = "costs.ledger"  # ui.confirm's key of the ledger editor's pending confirmation


# ---------------------------------------------------------------- helpers

def _key(name: str) -> str:
    """Widget key of an editor / uploader; a new generation after each save starts it afresh."""
    gen = st.session_state.get(GEN, 0)
    return f"costs.{name}" if gen == 0 else f"costs.{name}.{gen}"


def _saved(message: str) -> None:
    """Remember a success message, start the editors afresh and rerun."""
    st.session_state[FLASH] = message
    st.session_state[GEN] = st.session_state.get(GEN, 0) + 1
    st.rerun()


def show_problems(exc: UserDataError, intro: str | None = None) -> None:
    """Every problem as its own line; user and CRM text is shown literally (Markdown escaped)."""
    code = lang()
    lines = exc.lines(code)
    show_lines(lines, intro or (exc.text(code).splitlines()[0] if len(lines) > 1 else None))


def show_lines(lines: list[str], head: str | None) -> None:
    """An error box: the head sentence, then one bullet per line (Markdown escaped)."""
    body = "\n".join(f"- {fmt.md_escape(line)}" for line in lines)
    st.error((fmt.md_escape(head) + "\n\n" if head else "") + body, icon=":material/error:")


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


def _category_label(category: str) -> str:
    return t(f"category.{category}")


# ---------------------------------------------------------------- summary

def summary(f: Filters, currency: str) -> None:
    """Costs by category for the current filters, computed commission as its own line."""
    code = lang()
    st.subheader(tr(TEXT, "summary"), anchor=False)
    rows = query(engine.costs_by_category, f)
    if rows.empty:
        layout.empty()
        return
    rows = rows[["category", "amount"]].assign(amount=lambda d: d["amount"].fillna(0.0).astype(float))
    total = float(rows["amount"].sum())
    st.caption(tr(TEXT, "summary.total", total=fmt.money(total, code, currency)))
    if total <= 0:
        return
    rows["label"] = rows["category"].map(_category_label)
    rows = rows.sort_values("amount", ascending=False, kind="stable")  # the table in the chart's order
    left, right = st.columns([3, 2])
    with left:
        chart = charts.cost_categories(rows[rows["amount"] > 0], "label", "amount", tr(TEXT, "summary.axis"),
                                       currency)
        charts.show(chart, key="costs.category_chart", height=240)
    with right:
        st.dataframe(pd.DataFrame({
            tr(TEXT, "col.category"): rows["label"],
            tr(TEXT, "col.amount"): [fmt.money(v, code, currency) for v in rows["amount"]],
            tr(TEXT, "col.share"): [fmt.pct(v / total, code) for v in rows["amount"]],
        }), hide_index=True, key="costs.category_table", placeholder=fmt.DASH)
    st.caption(tr(TEXT, "summary.note"))


# ---------------------------------------------------------------- ledger editor

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
        frame, key=_key("editor"), num_rows="dynamic" if auth.can("edit") else "fixed", hide_index=True,
        width="stretch", disabled=not auth.can("edit"),
        column_config={
            "partner": st.column_config.SelectboxColumn(tr(TEXT, "col.partner"), options=names, required=True),
            "month": st.column_config.DateColumn(tr(TEXT, "col.month"), format="YYYY-MM", required=True,
                                                 default=first),
            "category": st.column_config.SelectboxColumn(tr(TEXT, "col.category"), options=list(CATEGORIES),
                                                         format_func=_category_label, required=True),
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
        _saved(tr(TEXT, "saved", n=n))


# ---------------------------------------------------------------- import / export

def import_section(currency: str) -> None:
    """Upload a CSV / XLSX, preview it with every error listed, import all rows or none."""
    code = lang()
    st.caption(tr(TEXT, "import.help"))
    upload = st.file_uploader(tr(TEXT, "upload"), type=["csv", "xlsx"], key=_key("upload"))
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
        tr(TEXT, "col.category"): parsed.rows["category"].map(_category_label),
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
            _saved(tr(TEXT, "imported", n=result.rows, total=fmt.money(result.total, code, currency)))


def confirm_large(parsed: costs_io.ParsedCosts, data: bytes) -> bool:
    """Amounts or months far outside the account's history (data_layer.plausibility): say so, ask for a tick."""
    if not parsed.warnings:
        return False
    confirm.warn(costs_io.ConfirmationNeeded(parsed.warnings))
    # the key follows the file, so a tick given for one file never confirms another
    return st.checkbox(tr(TEXT, "confirm.large"), key=f"{_key('confirm_large')}.{zlib.crc32(data):08x}")


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


# ---------------------------------------------------------------- partners

def partners_editor(partners: pd.DataFrame) -> None:
    """Model, aliases, manager, active flag and start date of every partner; new rows add partners."""
    st.caption(tr(TEXT, "partners.caption"))
    frame = partners[["partner_id", "name", "model", "model_source", "aliases", "manager", "start_date",
                      "active"]].copy()
    frame["aliases"] = frame["aliases"].map(lambda a: ", ".join(a))
    frame["model_source"] = frame["model_source"].map(lambda s: tr(TEXT, f"src.{s}") if s else "")
    edited = st.data_editor(
        frame, key=_key("partners"), num_rows="add" if auth.can("edit") else "fixed", hide_index=True,
        width="stretch", disabled=not auth.can("edit"),
        column_order=["name", "model", "model_source", "aliases", "manager", "start_date", "active"],
        column_config={
            "name": st.column_config.TextColumn(tr(TEXT, "col.name"), required=True, max_chars=200),
            "model": st.column_config.SelectboxColumn(tr(TEXT, "col.model"), options=list(MODELS),
                                                      format_func=model_label),
            "model_source": st.column_config.TextColumn(tr(TEXT, "col.source"), disabled=True),
            "aliases": st.column_config.TextColumn(tr(TEXT, "col.aliases")),
            "manager": st.column_config.TextColumn(tr(TEXT, "col.manager")),
            "start_date": st.column_config.DateColumn(tr(TEXT, "col.start")),
            "active": st.column_config.CheckboxColumn(tr(TEXT, "col.active"), default=True),
        },
    )
    if auth.can("edit") and st.button(tr(TEXT, "save"), key="costs.partners_save", type="primary"):
        try:
            n = write(userdata.save_partners, edited.drop(columns=["model_source"]))
        except UserDataError as exc:
            show_problems(exc)
        else:
            _saved(tr(TEXT, "saved.partners", n=n))


# ---------------------------------------------------------------- commission rules

def rules_editor(partners: pd.DataFrame, currency: str) -> None:
    """Commission rules per model and per-partner overrides, tiers as rows (ui.rules_editor, shared with what-if)."""
    st.caption(tr(TEXT, "rules.caption"))
    st.caption(tr(TEXT, "rules.tiers"))
    edited, problems = rules_table(query(userdata.list_rules), _key("rules"), partners["name"].tolist(), currency,
                                   disabled=not auth.can("edit"))
    if problems:
        st.error("\n".join(f"- {fmt.md_escape(p)}" for p in problems), icon=":material/error:")
    if auth.can("edit") and st.button(tr(TEXT, "save"), key="costs.rules_save", type="primary",
                                      disabled=bool(problems)):
        try:
            n = write(userdata.replace_rules, edited)
        except UserDataError as exc:
            show_problems(exc)
        else:
            _saved(tr(TEXT, "saved.rules", n=n))


# ---------------------------------------------------------------- computed commissions

def how_text(row: pd.Series, currency: str) -> str:
    """One rule's commission in words: revenue × rate (or tiers) = amount, or count × fixed amount."""
    code = lang()
    amount = fmt.money(row.get("amount"), code, currency, 2)
    if row.get("kind") == "percent_revenue":
        rate = fmt.pct(row.get("effective_rate"), code, 2)
        raw = row.get("tiers")
        tiers = None if raw is None or pd.isna(raw) else userdata.parse_tiers(raw)
        kind = tr(TEXT, f"how.kind.{userdata.tier_kind_of(row.get('tier_kind'))}")
        where = f" ({tr(TEXT, 'how.tiers', kind=kind, tiers=tiers_text(tiers, currency))})" if tiers else ""
        return f"{fmt.money(row.get('revenue'), code, currency, 2)} × {rate}{where} = {amount}"
    count = fmt.num(row.get("events"), code)
    return f"{count} × {fmt.money(row.get('rate'), code, currency, 2)} = {amount}"


def commissions_section(f: Filters, currency: str) -> None:
    """Every rule that earned a commission in the period, per partner, with how it was computed."""
    code = lang()
    st.caption(tr(TEXT, "commissions.caption"))
    details = query(engine.commission_details, f)
    if details.empty:
        st.info(tr(TEXT, "commissions.none"))
        return
    st.caption(tr(TEXT, "commissions.total", total=fmt.money(float(details["amount"].sum()), code, currency)))
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.partner"): details["partner"].astype(str),
        tr(TEXT, "col.model"): details["model"].map(model_label),
        tr(TEXT, "col.rule"): [tr(TEXT, f"kind.{k}") + " · " + tr(TEXT, f"scope.{s}")
                               for k, s in zip(details["kind"], details["rule_scope"], strict=True)],
        tr(TEXT, "col.months"): [f"{a:%Y-%m} – {b:%Y-%m}" if not pd.isna(a) else fmt.DASH
                                 for a, b in zip(details["first_month"], details["last_month"], strict=True)],
        tr(TEXT, "col.commission"): [fmt.money(v, code, currency, 2) for v in details["amount"]],
        tr(TEXT, "col.how"): [how_text(r, currency) for _, r in details.iterrows()],
    }), hide_index=True, key="costs.commissions", placeholder=fmt.DASH)


# ---------------------------------------------------------------- page

def render() -> None:
    """The costs & commissions page."""
    f = current()
    currency = query(lookups.freshness).get("currency") or "RUB"
    st.title(t("page.costs"), anchor=False)
    st.caption(tr(TEXT, "caption", period=period_label(f)))
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if not auth.can("edit"):
        auth.read_only_note()
    summary(f, currency)
    partners = query(userdata.list_partners)
    tabs = st.tabs([tr(TEXT, k) for k in ("tab.ledger", "tab.import", "tab.partners", "tab.rules",
                                          "tab.commissions", "tab.payouts")])
    with tabs[0]:
        ledger_editor(f, partners)
    with tabs[1]:
        if auth.can("edit"):
            import_section(currency)
        st.divider()
        export_section()
    with tabs[2]:
        partners_editor(partners)
    with tabs[3]:
        rules_editor(partners, currency)
    with tabs[4]:
        commissions_section(f, currency)
    with tabs[5]:
        payouts_panel.render(f)  # owed vs paid; approve / pay / reverse (editors only, audited)


if __name__ == "__main__":
    render()
