"""Partner payouts on the costs page: owed vs paid per partner, accrual of a month, approve / pay / reverse a line.

Render only: reads through ui.data.query, every action through ui.writes.write (one transaction, then the data
version is bumped); illegal actions come back from programme.payouts as sentences in the UI language.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from data_layer import plausibility
from metrics import lookups
from metrics.filters import Filters
from presentation import clawbacks as claw_words
from presentation import fmt
from programme import clawbacks, payout_views, payouts
from ui import auth, confirm
from ui.data import query
from ui.filters import today as account_today
from ui.i18n import lang, model_label, tr
from ui.number_entry import EntryError, amount_text, read_amount
from ui.writes import write

TEXT = {
    "ru": {
        "title": "Выплаты партнёрам",
        "caption": "Начисление за месяц = комиссия по правилам за сделки, закрытые в этом месяце, + комиссия и "
                   "бонусы из журнала затрат. Дальше строка утверждается и выплачивается; каждое действие "
                   "записывается в историю и журнал изменений. Правила — в руководстве пользователя, раздел «Выплаты партнёрам».",
        "who": "Кто выполняет действия (для журнала)", "who.help": "Имя или e-mail; без него действия недоступны.",
        "who.signed": "Действия записываются в журнал от имени {who}.",
        "accrue": "Начислить за месяц", "accrue.month": "Месяц начисления", "accrue.do": "Начислить / пересчитать",
        "accrued": "Начисление за {month}: новых или увеличенных строк — {up}, уменьшенных (сторно) — {down}.",
        "overpaid": "Партнёру «{partner}» за {month} уже выплачено на {amount} больше, чем причитается сейчас: "
                    "удержите переплату при следующей выплате.",
        "closed": "Строки, закрытые сторно, не пересчитываются: {names}.",
        "owed": "Начислено и выплачено по партнёрам", "owed.none": "За выбранные месяцы начислений нет.",
        "col.partner": "Партнёр", "col.model": "Модель", "col.month": "Месяц", "col.accrued": "Начислено",
        "col.approved": "Утверждено", "col.pending": "Ждёт утверждения", "col.paid": "Выплачено",
        "col.to_pay": "К оплате", "col.owed": "Долг партнёру", "col.status": "Статус",
        "col.last_paid_on": "Последняя выплата", "col.references": "Документы", "col.balance_words": "Расчёты",
        "lines": "Строки выплат", "line": "Строка", "action": "Действие",
        "action.approve": "Утвердить", "action.pay": "Выплатить", "action.reverse": "Сторнировать",
        "action.withhold": "Удержать долг",
        "withhold.help": "Долг партнёра по сторно: {owed}. Удержание записывается как выплата по строке (документ "
                         "«clawback: withheld»): к оплате и долг уменьшаются на одну сумму, остаток расчётов не меняется.",
        "done.withhold": "Удержано {amount} в счёт долга партнёра.",
        "amount": "Сумма", "amount.sign": "Сумма, {sign}",
        "amount.help": "Например «1 234,50». По умолчанию — всё, что можно провести этим действием.", "paid_on": "Дата выплаты", "reference": "Платёжный документ", "reason": "Причина сторно",
        "submit": "Выполнить", "done.approve": "Утверждено {amount}.", "done.pay": "Выплата {amount} записана.",
        "done.reverse": "Сторнировано {amount}.", "no_lines": "Открытых строк нет.",
        "history": "История строки", "col.when": "Когда", "col.who": "Кто", "col.event": "Действие",
        "col.amount": "Сумма", "col.reason": "Причина", "col.reference": "Документ", "col.paid_on": "Дата выплаты",
        "status.accrued": "ждёт утверждения", "status.approved": "ждёт оплаты", "status.paid": "выплачено",
        "status.reversed": "сторно (закрыта)",
        "event.accrue": "начисление", "event.approve": "утверждение", "event.pay": "выплата", "event.reverse": "сторно",
        "line.label": "{partner} · {month} · {status} · к оплате {to_pay}, ждёт утверждения {pending}",
        "confirm": "Да, дата верна — записать выплату",
    },
    "en": {
        "title": "Partner payouts",
        "caption": "A month's accrual = commission by rules on deals closed that month + ledger commission and "
                   "bonuses. A line is then approved and paid; every action is kept in its history and the audit "
                   "log. Rules: the user guide, section “Partner payouts”.",
        "who": "Who acts (for the audit log)", "who.help": "A name or e-mail; actions need it.",
        "who.signed": "Actions are recorded in the audit log as {who}.",
        "accrue": "Accrue a month", "accrue.month": "Accrual month", "accrue.do": "Accrue / recalculate",
        "accrued": "Accrual for {month}: {up} lines created or increased, {down} decreased (reversed).",
        "overpaid": "Partner “{partner}” has been paid {amount} more for {month} than is due now: "
                    "withhold the overpayment from the next payout.",
        "closed": "Lines closed by a reversal are not recalculated: {names}.",
        "owed": "Accrued and paid per partner", "owed.none": "Nothing accrued for the selected months.",
        "col.partner": "Partner", "col.model": "Model", "col.month": "Month", "col.accrued": "Accrued",
        "col.approved": "Approved", "col.pending": "Awaiting approval", "col.paid": "Paid",
        "col.to_pay": "To pay", "col.owed": "Owed to partner", "col.status": "Status",
        "col.last_paid_on": "Last paid", "col.references": "References", "col.balance_words": "Settlement",
        "lines": "Payout lines", "line": "Line", "action": "Action",
        "action.approve": "Approve", "action.pay": "Pay", "action.reverse": "Reverse",
        "action.withhold": "Withhold debt",
        "withhold.help": "The partner owes {owed} from reversals. A withholding is recorded as a payment on the line "
                         "(reference “clawback: withheld”): to pay and the debt drop by the same amount, the balance keeps.",
        "done.withhold": "Withheld {amount} against the partner's debt.",
        "amount": "Amount", "amount.sign": "Amount, {sign}",
        "amount.help": "For example “1,234.50”. By default: all this action can take.", "paid_on": "Paid on", "reference": "Payment reference", "reason": "Reason",
        "submit": "Apply", "done.approve": "Approved {amount}.", "done.pay": "Payment of {amount} recorded.",
        "done.reverse": "Reversed {amount}.", "no_lines": "No open lines.",
        "history": "Line history", "col.when": "When", "col.who": "Who", "col.event": "Action",
        "col.amount": "Amount", "col.reason": "Reason", "col.reference": "Reference", "col.paid_on": "Paid on",
        "status.accrued": "awaiting approval", "status.approved": "awaiting payment", "status.paid": "paid",
        "status.reversed": "reversed (closed)",
        "event.accrue": "accrual", "event.approve": "approval", "event.pay": "payment", "event.reverse": "reversal",
        "line.label": "{partner} · {month} · {status} · to pay {to_pay}, awaiting approval {pending}",
        "confirm": "Yes, the date is right: record the payment",
    },
}
FLASH = "payouts._flash"
PAY_CONFIRM = "payouts.pay"  # ui.confirm's key of a payment date's pending confirmation
ACTIONS = ("approve", "pay", "reverse")
MONEY_COLS = ("accrued", "approved", "pending", "paid", "to_pay", "owed")
DATE_FORMAT = {"ru": "DD.MM.YYYY", "en": "YYYY/MM/DD"}


def statement_rows(con: Any, partner_id: int,
                   period: payouts.Period | None = None) -> pd.DataFrame:
    """Read-only payout lines of one partner for a statement: month, accrued, approved, paid, owed, status, …"""
    return payout_views.statement(con, partner_id, period)


def _money(x: object, currency: str) -> str:
    return fmt.money(None if x is None or pd.isna(x) else float(x), lang(), currency, digits=2)


def _month_text(d: object, code: str | None = None) -> str:
    value = pd.Timestamp(d).date()
    return value.strftime("%m.%Y") if (code or lang()) == "ru" else value.strftime("%Y-%m")


def _say(code: str, key: str, **kwargs: object) -> str:
    """A TEXT entry in a given language (labels computed later by widgets, outside this run's language)."""
    return TEXT[code][key].format(**kwargs)


def _error(exc: payouts.PayoutError | clawbacks.ClawbackError) -> None:
    st.error(exc.text(lang()), icon=":material/error:")


def recent_months(today: date, n: int = 12) -> list[date]:
    """The first days of the last n months, the current one first."""
    months, d = [], today.replace(day=1)
    for _ in range(n):
        months.append(d)
        d = (d - timedelta(days=1)).replace(day=1)
    return months


def accrue_section(who: str, today: date, currency: str) -> None:
    """Pick a month and (re)compute its accruals."""
    st.markdown(f"**{tr(TEXT, 'accrue')}**")
    months = recent_months(today)
    c1, c2 = st.columns([2, 1], vertical_alignment="bottom")
    code = lang()
    month = c1.selectbox(tr(TEXT, "accrue.month"), months, index=1, format_func=lambda d: _month_text(d, code),
                         key="payouts.accrue_month")
    if c2.button(tr(TEXT, "accrue.do"), key="payouts.accrue", disabled=not who):
        try:
            report = write(payouts.accrue, month, who)
        except payouts.PayoutError as exc:
            _error(exc)
            return
        st.session_state[FLASH] = accrue_messages(report, query(lookups.partners), currency)
        st.rerun()


def accrue_messages(report: pd.DataFrame, partners: pd.DataFrame, currency: str) -> list[tuple[str, str]]:
    """(kind, sentence) lines summarising an accrual: counts, overpayments, closed lines."""
    names = dict(zip(partners["partner_id"].astype(int), partners["name"], strict=True))
    month = _month_text(report["month"].iloc[0]) if len(report) else ""
    out = [("success", tr(TEXT, "accrued", month=month, up=int((report["action"] == "accrued").sum()),
                          down=int((report["action"] == "reversed").sum())))]
    for r in report[report["overpaid"] > 0].to_dict("records"):
        out.append(("warning", tr(TEXT, "overpaid", partner=fmt.plain(names.get(r["partner_id"], r["partner_id"])),
                                  month=month, amount=_money(r["overpaid"], currency))))
    closed = [fmt.plain(names.get(p, p)) for p in report.loc[report["action"] == "closed", "partner_id"]]
    if closed:
        out.append(("info", tr(TEXT, "closed", names=", ".join(closed))))
    return out


def owed_section(period: payouts.Period | None, currency: str) -> None:
    """Owed vs paid per partner."""
    st.markdown(f"**{tr(TEXT, 'owed')}**")
    df = query(payout_views.owed_vs_paid, period)
    if df.empty:
        st.caption(tr(TEXT, "owed.none"))
        return
    table = pd.DataFrame({tr(TEXT, "col.partner"): df["partner_name"],
                          tr(TEXT, "col.model"): df["model"].map(model_label)})
    for col in MONEY_COLS:
        table[tr(TEXT, f"col.{col}")] = df[col].map(lambda x: _money(x, currency))
    st.dataframe(table, hide_index=True, key="payouts.owed", placeholder=fmt.DASH)


def _narrow(frame: pd.DataFrame, period: payouts.Period | None, partners: pd.DataFrame) -> pd.DataFrame:
    """Rows of the partners (and models) the period's filters name; all rows without such filters."""
    if not isinstance(period, Filters) or not (period.partners or period.models):
        return frame
    keep = partners
    if period.partners:
        keep = keep[keep["partner_id"].isin(period.partners)]
    if period.models:
        keep = keep[keep["model"].fillna("unassigned").isin(period.models)]
    return frame[frame["partner_id"].isin(keep["partner_id"])]


def reversals_section(period: payouts.Period | None, currency: str) -> None:
    """Clawbacks landing in the period's months line by line, the balances carried in and at the end, debts in words."""
    code = lang()
    st.markdown(f"**{claw_words.say(code, 'title')}**")
    lo, hi = (None, None) if period is None else (period.date_from, period.date_to)
    partners = query(lookups.partners)
    rev = _narrow(query(clawbacks.reversals, None, lo, hi), period, partners)
    if rev.empty:
        st.caption(claw_words.say(code, "none"))
    else:
        st.dataframe(pd.DataFrame({
            claw_words.say(code, "col.date"): [fmt.day(pd.Timestamp(x).date(), code) for x in rev["reversed_at"]],
            tr(TEXT, "col.partner"): rev["partner_name"].astype(object),
            claw_words.say(code, "col.deal"): [f"{int(i)} · {n}" if isinstance(n, str) and n else str(int(i))
                                              for i, n in zip(rev["lead_id"], rev["lead_name"], strict=True)],
            claw_words.say(code, "col.amount"): rev["amount"].map(lambda x: _money(-x, currency)),
            claw_words.say(code, "col.withheld"): rev["withheld"].map(lambda x: _money(x, currency)),
            claw_words.say(code, "col.reason"): rev["reason"].map(lambda r: claw_words.reason(r, code)),
            claw_words.say(code, "col.month"): rev["accrual_month"].map(lambda d: _month_text(d, code)),
        }), hide_index=True, key="payouts.reversals", placeholder=fmt.DASH)
    # balances only of partners with a clawback: for the others the balance is the owed amount shown above
    clawed = set(query(clawbacks.reversals)["partner_id"].astype(int))
    bal = _narrow(query(clawbacks.balances, lo, hi), period, partners)
    balances_table(bal[bal["partner_id"].isin(clawed)], partners, currency)


def balances_table(bal: pd.DataFrame, partners: pd.DataFrame, currency: str) -> None:
    """Per partner: the balance carried into the period and at its end, in words; a warning per partner who owes."""
    if bal.empty:
        return
    code = lang()
    names = dict(zip(partners["partner_id"].astype(int), partners["name"], strict=True))
    who = [names.get(int(p), str(p)) for p in bal["partner_id"]]
    st.dataframe(pd.DataFrame({
        tr(TEXT, "col.partner"): who,
        claw_words.say(code, "carried"): bal["carried"].map(lambda x: _money(x, currency)),
        claw_words.say(code, "closing"): bal["closing"].map(lambda x: _money(x, currency)),
        tr(TEXT, "col.balance_words"): [claw_words.balance_sentence(float(x), code, currency) for x in bal["closing"]],
    }), hide_index=True, key="payouts.balances", placeholder=fmt.DASH)
    for name, closing in zip(who, bal["closing"], strict=True):
        if closing <= -0.005:
            st.warning(f"{fmt.plain(name)}: {claw_words.balance_sentence(float(closing), code, currency)}",
                       icon=":material/undo:")


def _line_label(r: dict, currency: str, code: str) -> str:
    money = {k: fmt.money(float(r[k]), code, currency, digits=2) for k in ("to_pay", "pending")}
    return _say(code, "line.label", partner=r["partner_name"], month=_month_text(r["month"], code),
                status=_say(code, f"status.{r['status']}"), **money)


def _limit(r: dict, action: str, owed: float = 0.0) -> float:
    if action == "withhold":
        return min(float(r["to_pay"]), owed)
    return float({"approve": r["pending"], "pay": r["to_pay"], "reverse": r["accrued"] - r["paid"]}[action])


def action_section(period: payouts.Period | None, who: str, today: date, currency: str) -> None:
    """Pick an open line and approve, pay or reverse part of it."""
    st.markdown(f"**{tr(TEXT, 'lines')}**")
    lines = query(payout_views.lines, period)
    open_lines = {int(r["payout_id"]): r for r in lines.to_dict("records") if r["status"] != "reversed"}
    if not open_lines:
        st.caption(tr(TEXT, "no_lines"))
        return
    code = lang()
    pid = st.selectbox(tr(TEXT, "line"), list(open_lines), key="payouts.line",
                       format_func=lambda p: _line_label(open_lines[p], currency, code))
    line = open_lines[pid]
    owed = query(clawbacks.outstanding, int(line["partner_id"]))  # paid commission the partner owes back
    actions = [*ACTIONS, "withhold"] if owed >= 0.01 else list(ACTIONS)
    if st.session_state.get("payouts.action") not in actions:
        st.session_state["payouts.action"] = "approve"
    action = st.segmented_control(tr(TEXT, "action"), actions, default="approve", required=True,
                                  key="payouts.action", format_func=lambda a: _say(code, f"action.{a}"))
    with st.form("payouts.form", border=True):
        sign = fmt.currency_symbol(currency, code)
        label = tr(TEXT, "amount.sign", sign=sign)
        typed = st.text_input(label, value=amount_text(round(max(_limit(line, action, owed), 0.0), 2)),
                              key=f"payouts.amount.{pid}.{action}", help=tr(TEXT, "amount.help"))
        paid_on = reference = reason = None
        if action == "pay":
            paid_on = st.date_input(tr(TEXT, "paid_on"), value=today, key="payouts.paid_on",
                                    format=DATE_FORMAT[lang()])
            reference = st.text_input(tr(TEXT, "reference"), key="payouts.reference")
        if action == "reverse":
            reason = st.text_input(tr(TEXT, "reason"), key="payouts.reason")
        if action == "withhold":
            paid_on = today
            st.caption(tr(TEXT, "withhold.help", owed=_money(owed, currency)))
        sig = confirm.signature(pid, action, typed, paid_on, reference, reason)
        slot = st.container()  # the warning and its tick go above the button that confirms them
        if st.form_submit_button(tr(TEXT, "submit"), key="payouts.submit", type="primary", disabled=not who):
            try:  # typed the UI language's way: «1 234,50» is one thousand and more, never 1.23
                amount = read_amount(typed, label, sign)
            except EntryError as exc:
                st.error(exc.sentence, icon=":material/error:")
            else:
                if action != "pay" or _date_plausible(paid_on, sig):  # a withholding is dated today
                    _apply(action, pid, amount, paid_on, reference, reason, who, currency)
        with slot:
            confirm.show(PAY_CONFIRM, sig, tr(TEXT, "confirm"))
    history(pid, currency)


def _date_plausible(paid_on: date | None, sig: str) -> bool:
    """A payment date far from every month with data waits for the tick (amounts are capped by the line itself)."""
    if paid_on is None or confirm.confirmed(PAY_CONFIRM, sig):
        return True
    found = plausibility.month_finding(paid_on, query(plausibility.account_scale), code="pay.month_far")
    if found is None:
        return True
    confirm.ask(PAY_CONFIRM, sig, plausibility.ConfirmationNeeded([found]))  # nothing written
    return False


def _apply(action: str, pid: int, amount: float, paid_on: date | None, reference: str | None,
           reason: str | None, who: str, currency: str) -> None:
    try:
        if action == "approve":
            write(payouts.approve, pid, amount, who)
        elif action == "pay":
            write(payouts.pay, pid, amount, paid_on, reference, who)
        elif action == "withhold":
            write(clawbacks.withhold, pid, amount, paid_on, who)
        else:
            write(payouts.reverse, pid, amount, reason or "", who)
    except (payouts.PayoutError, clawbacks.ClawbackError) as exc:
        _error(exc)
        return
    confirm.clear(PAY_CONFIRM)
    st.session_state[FLASH] = [("success", tr(TEXT, f"done.{action}", amount=_money(amount, currency)))]
    st.rerun()


def history(pid: int, currency: str) -> None:
    """The events of one line, oldest first."""
    ev = query(payout_views.events, pid)
    with st.expander(tr(TEXT, "history")):
        table = pd.DataFrame({
            tr(TEXT, "col.when"): pd.to_datetime(ev["happened_at"]).dt.strftime("%Y-%m-%d %H:%M"),
            tr(TEXT, "col.who"): ev["who"], tr(TEXT, "col.event"): ev["action"].map(lambda a: tr(TEXT, f"event.{a}")),
            tr(TEXT, "col.amount"): ev["amount"].map(lambda x: _money(x, currency)),
            tr(TEXT, "col.paid_on"): ev["paid_on"].map(lambda d: "" if pd.isna(d) else fmt.day(pd.Timestamp(d).date(),
                                                                                              lang())),
            tr(TEXT, "col.reference"): ev["reference"].fillna(""), tr(TEXT, "col.reason"): ev["reason"].fillna(""),
        })
        st.dataframe(table, hide_index=True, key="payouts.history", placeholder=fmt.DASH)


def _show_flash() -> None:
    for kind, text in st.session_state.pop(FLASH, None) or []:
        getattr(st, kind)(text)


def render(f: Filters | None = None) -> None:
    """The payouts block: who, accrual, owed vs paid for the months of f (all months when None), line actions."""
    info = query(lookups.freshness)
    currency = info.get("currency") or "RUB"
    today = account_today(info.get("timezone") or "Europe/Moscow")
    period = None if f is None else Filters(f.date_from, f.date_to, partners=f.partners, models=f.models)
    st.subheader(tr(TEXT, "title"), anchor=False)
    st.caption(tr(TEXT, "caption"))
    _show_flash()
    editor = auth.can("edit")
    who = actor() if editor else ""
    if editor:
        accrue_section(who, today, currency)
    else:
        auth.read_only_note()
    owed_section(period, currency)
    reversals_section(period, currency)
    if editor:
        action_section(period, who, today, currency)


def actor() -> str:
    """Who the actions are recorded as: the signed-in person, or (open mode) a name typed here."""
    person = auth.principal()
    if not person.open_mode:
        st.caption(tr(TEXT, "who.signed", who=person.actor))
        return person.actor
    return st.text_input(tr(TEXT, "who"), key="payouts.who", help=tr(TEXT, "who.help")).strip()
