"""The settings page's alerts panel: the rules with their state and last send, the form editors add, change and
delete them with, a test send per channel, and the last 50 sends.

Everyone sees the rules and the history; the writing widgets are disabled for whoever may not edit (ui.auth).
The channels' code lives in reports/, which ui/ never imports: the page hands the test send and the channel
settings' description in. Thresholds are typed the Russian way ("12,5", "1 234 567") and read by the user data's
own parser; a fraction metric's threshold and a change are typed in percent.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from data_layer import userdata
from data_layer.userdata import UserDataError
from data_layer.userdata import alerts as rule_store
from metrics import lookups
from metrics.registry import METRICS
from presentation import fmt, freshness
from programme import alerts
from ui import auth, data, writes
from ui.i18n import labeler, lang, metric_label, model_label, tr

TEXT = {
    "ru": {
        "rules": "Правила оповещений", "none": "Правил пока нет — добавьте первое ниже.",
        "caption": "Оповещения проверяются после каждой синхронизации и командой python -m reports alerts. "
                   "Незрелые и текущие периоды не срабатывают. Токен Telegram-бота: {token}; секрет вебхука: "
                   "{secret} (задаются в .streamlit/secrets.toml или переменных окружения, в базу не попадают). "
                   "Ссылки ведут на {url}.",
        "set": "задан", "missing": "не задан",
        "edit": "Изменить правило", "new": "Новое правило", "name": "Название", "metric": "Показатель",
        "condition": "Условие", "threshold": "Порог", "threshold.pct": "Порог, %",
        "threshold.help": "Например 12,5 или 1 234 567; для долей и изменений — в процентах.",
        "scope_kind": "Охват", "scope.all": "вся программа", "scope.model": "модель", "scope.partner": "партнёр",
        "scope_value": "Модель или партнёр", "scope.each": "каждый по отдельности",
        "each.model": "каждая модель", "each.partner": "каждый партнёр",
        "window": "Окно, периодов", "grain": "Шаг", "grain.month": "месяц", "grain.week": "неделя",
        "email": "E-mail (через запятую)", "telegram": "Telegram chat id", "webhook": "Адрес вебхука",
        "enabled": "Включено",
        "cond.below": "ниже порога", "cond.above": "выше порога", "cond.change_pct": "изменение больше, %",
        "cond.anomaly": "аномалия", "cond.fell_asleep": "партнёр уснул",
        "save": "Сохранить правило", "delete": "Удалить правило", "saved": "Правило сохранено.",
        "deleted": "Правило удалено.", "test": "Проверить: {kind}", "test.ok": "Проверочное сообщение отправлено.",
        "history": "История отправок (последние 50)", "no_history": "Отправок ещё не было.",
        "col.name": "Правило", "col.metric": "Показатель", "col.scope": "Охват", "col.condition": "Условие",
        "col.threshold": "Порог", "col.window": "Окно", "col.enabled": "Вкл.", "col.active": "Активно",
        "col.last_sent": "Отправка",
        "col.sent_at": "Когда", "col.scope_key": "Где", "col.channel": "Канал", "col.event": "Событие",
        "col.result": "Результат", "col.error": "Ошибка", "col.attempt": "Попытка",
        "ev.start": "сработало", "ev.clear": "снято", "res.ok": "отправлено", "res.failed": "ошибка",
    },
    "en": {
        "rules": "Alert rules", "none": "No rules yet — add the first one below.",
        "caption": "Alerts are judged after every sync and by python -m reports alerts. Maturing and current "
                   "periods never fire. Telegram bot token: {token}; webhook secret: {secret} (set in "
                   ".streamlit/secrets.toml or the environment, never in the database). Links point to {url}.",
        "set": "set", "missing": "not set",
        "edit": "Edit rule", "new": "New rule", "name": "Name", "metric": "Metric", "condition": "Condition",
        "threshold": "Threshold", "threshold.pct": "Threshold, %",
        "threshold.help": "E.g. 12.5 or 1,234,567; fractions and changes in percent.",
        "scope_kind": "Scope", "scope.all": "whole programme", "scope.model": "model", "scope.partner": "partner",
        "scope_value": "Model or partner", "scope.each": "each on its own",
        "each.model": "each model", "each.partner": "each partner",
        "window": "Window, periods", "grain": "Step", "grain.month": "month", "grain.week": "week",
        "email": "E-mail (comma-separated)", "telegram": "Telegram chat id", "webhook": "Webhook URL",
        "enabled": "Enabled",
        "cond.below": "below the threshold", "cond.above": "above the threshold", "cond.change_pct": "change above, %",
        "cond.anomaly": "anomaly", "cond.fell_asleep": "partner fell asleep",
        "save": "Save rule", "delete": "Delete rule", "saved": "Rule saved.", "deleted": "Rule deleted.",
        "test": "Test: {kind}", "test.ok": "Test message sent.",
        "history": "Send history (last 50)", "no_history": "Nothing sent yet.",
        "col.name": "Rule", "col.metric": "Metric", "col.scope": "Scope", "col.condition": "Condition",
        "col.threshold": "Threshold", "col.window": "Window", "col.enabled": "On", "col.active": "Firing",
        "col.last_sent": "Sent",
        "col.sent_at": "When", "col.scope_key": "Where", "col.channel": "Channel", "col.event": "Event",
        "col.result": "Result", "col.error": "Error", "col.attempt": "Attempt",
        "ev.start": "fired", "ev.clear": "cleared", "res.ok": "sent", "res.failed": "failed",
    },
}
K = "settings.alerts_"  # widget keys: settings.alerts_<field>
EACH = ""  # the scope value "each model / partner on its own" (a selectbox shows None as an empty choice)
FIELDS = ("name", "metric", "condition", "threshold", "scope_kind", "scope_value", "window", "grain", "email",
          "telegram", "webhook", "enabled")
TestSend = Callable[[dict[str, Any], str, "dict[str, Any] | None"], "str | None"]


def _percent(metric: str, condition: str) -> bool:
    """Whether the threshold is typed in percent: a change, or a fraction metric's level."""
    return condition == "change_pct" or (condition in ("below", "above") and METRICS[metric].unit == "fraction")


def _scope_text(kind: str, value: Any, names: dict[int, str]) -> str:
    if kind == "all":
        return tr(TEXT, "scope.all")
    if value is None:
        return tr(TEXT, f"each.{kind}")
    return model_label(value) if kind == "model" else str(names.get(int(value), value))


def _threshold_text(row: dict[str, Any]) -> str:
    if row["threshold"] is None or pd.isna(row["threshold"]):
        return fmt.DASH
    if _percent(row["metric"], row["condition"]):
        return fmt.pct(float(row["threshold"]), lang())
    return fmt.num(float(row["threshold"]), lang(), 0 if float(row["threshold"]).is_integer() else 2)


def rules_table(names: dict[int, str]) -> None:
    """The rules with how many scopes fire now and the last send."""
    rows = data.query(alerts.rule_overview)
    if rows.empty:
        st.info(tr(TEXT, "none"))
        return
    shown = pd.DataFrame({
        tr(TEXT, "col.name"): rows["name"],  # a table cell is literal text: no Markdown to escape
        tr(TEXT, "col.metric"): rows["metric"].map(metric_label),
        tr(TEXT, "col.condition"): rows["condition"].map(labeler(TEXT, "cond.")),
        tr(TEXT, "col.threshold"): [_threshold_text(r) for r in rows.to_dict("records")],
        tr(TEXT, "col.scope"): [_scope_text(k, v, names) for k, v in zip(rows["scope_kind"], rows["scope_value"],
                                                                        strict=True)],
        tr(TEXT, "col.window"): [f"{n} × {tr(TEXT, f'grain.{g}')}" for n, g in zip(rows["window_periods"],
                                                                                  rows["grain"], strict=True)],
        tr(TEXT, "col.enabled"): rows["enabled"].astype(bool),
        tr(TEXT, "col.active"): rows["active_scopes"].astype(int),
        tr(TEXT, "col.last_sent"): [f"{_when(w, '%d.%m %H:%M')} · {tr(TEXT, f'res.{r}')}" if isinstance(r, str) else None
                                    for w, r in zip(rows["last_sent_at"], rows["last_result"], strict=True)],
    })
    st.dataframe(shown, hide_index=True, key=f"{K}rules", placeholder=fmt.DASH)


def _when(value: Any, pattern: str = "%d.%m.%Y %H:%M") -> str | None:
    """A stored time in the account's time zone (as every other time on the dashboard), to the minute."""
    if value is None or pd.isna(value):
        return None
    moment = freshness.stored_moment(pd.Timestamp(value).to_pydatetime(), freshness.account_tz(data.query(lookups.freshness)))
    return moment.strftime(pattern) if moment else None


def _load(rule_id: int | None) -> None:
    """Fill the form's widgets from a rule (None: a new one)."""
    rows = data.query(rule_store.list_alert_rules)
    row = rows[rows["rule_id"] == rule_id].iloc[0].to_dict() if rule_id is not None else {}
    chans = rule_store.channels_of(row.get("channels") or "[]")
    by_kind = {c["kind"]: c for c in chans}
    threshold = row.get("threshold")
    pct = row and _percent(row["metric"], row["condition"])
    values = {
        "name": row.get("name", ""), "metric": row.get("metric") if row.get("metric") in alerts.alert_metrics()
        else "roi", "condition": row.get("condition", "below"),
        "threshold": _typed(threshold * 100 if pct and threshold is not None else threshold),
        "scope_kind": row.get("scope_kind", "partner"), "scope_value": row.get("scope_value") or EACH,
        "window": int(row.get("window_periods", 1)), "grain": row.get("grain", "month"),
        "email": ", ".join(by_kind.get("email", {}).get("to", [])),
        "telegram": by_kind.get("telegram", {}).get("chat_id", ""), "webhook": by_kind.get("webhook", {}).get("url", ""),
        "enabled": bool(row.get("enabled", True)),
    }
    for name, value in values.items():
        st.session_state[K + name] = value


def _typed(value: float | None) -> str:
    """A stored threshold as text the parser reads back (no grouping; a decimal comma in Russian)."""
    if value is None or pd.isna(value):
        return ""
    text = f"{Decimal(str(round(float(value), 6))).normalize():f}"
    return text.replace(".", ",") if lang() == "ru" else text


def _on_pick() -> None:
    _load(st.session_state.get(f"{K}pick"))


def _rule_from_widgets() -> dict[str, Any]:
    """The rule the form holds, as programme.alerts takes it (the threshold still text)."""
    s = st.session_state
    chans: list[dict[str, Any]] = []
    if str(s.get(K + "email") or "").strip():
        chans.append({"kind": "email", "to": str(s[K + "email"])})
    if str(s.get(K + "telegram") or "").strip():
        chans.append({"kind": "telegram", "chat_id": str(s[K + "telegram"]).strip()})
    if str(s.get(K + "webhook") or "").strip():
        chans.append({"kind": "webhook", "url": str(s[K + "webhook"]).strip()})
    metric, condition = s.get(K + "metric"), s.get(K + "condition")
    return {"name": s.get(K + "name"), "metric": "" if condition == "fell_asleep" else metric,
            "condition": condition, "threshold": str(s.get(K + "threshold") or "").replace("%", "").strip(),
            "threshold_percent": condition != "fell_asleep" and _percent(metric, condition),
            "scope_kind": s.get(K + "scope_kind"), "scope_value": s.get(K + "scope_value") or None,
            "window_periods": s.get(K + "window"), "grain": s.get(K + "grain"), "channels": chans,
            "enabled": bool(s.get(K + "enabled", True))}


def form(names: dict[int, str], test_send: TestSend) -> None:
    """Add, change or delete a rule, and test its channels (disabled for people who may not edit)."""
    rows = data.query(rule_store.list_alert_rules)
    locked = not auth.allowed(alerts.add_rule)
    if K + "name" not in st.session_state:
        _load(None)
    ids = [None, *rows["rule_id"].astype(int).tolist()]
    labels = {int(r): str(n) for r, n in zip(rows["rule_id"], rows["name"], strict=True)}
    picked = st.selectbox(tr(TEXT, "edit"), ids, key=f"{K}pick", on_change=_on_pick,
                          format_func=lambda r: tr(TEXT, "new") if r is None else str(labels.get(r, r)))
    c1, c2, c3 = st.columns([3, 2, 2])
    c1.text_input(tr(TEXT, "name"), key=K + "name", disabled=locked)
    condition = c2.selectbox(tr(TEXT, "condition"), rule_store.CONDITIONS, key=K + "condition", disabled=locked,
                             format_func=labeler(TEXT, "cond."))
    metric = c3.selectbox(tr(TEXT, "metric"), alerts.alert_metrics(), key=K + "metric", format_func=metric_label,
                          disabled=locked or condition == "fell_asleep")
    d1, d2, d3, d4 = st.columns([2, 2, 3, 2])
    pct = condition != "fell_asleep" and _percent(metric, condition)
    d1.text_input(tr(TEXT, "threshold.pct" if pct else "threshold"), key=K + "threshold", help=tr(TEXT, "threshold.help"),
                  disabled=locked or condition in ("anomaly", "fell_asleep"))
    kind = d2.selectbox(tr(TEXT, "scope_kind"), rule_store.SCOPE_KINDS, key=K + "scope_kind", disabled=locked,
                        format_func=labeler(TEXT, "scope."))
    choices: list[Any] = [EACH, *(rule_store.SCOPE_MODELS if kind == "model" else
                                  [str(p) for p in sorted(names, key=lambda p: str(names[p]).lower())])]
    if st.session_state.get(K + "scope_value") not in choices:
        st.session_state[K + "scope_value"] = EACH
    d3.selectbox(tr(TEXT, "scope_value"), choices, key=K + "scope_value", disabled=locked or kind == "all",
                 format_func=lambda v, k=kind: tr(TEXT, "scope.each") if v == EACH else
                 (model_label(v) if k == "model" else str(names.get(int(v), v))))
    e1, e2 = d4.columns(2)
    e1.number_input(tr(TEXT, "window"), min_value=1, max_value=rule_store.MAX_WINDOW, step=1, key=K + "window",
                    disabled=locked or condition in ("anomaly", "fell_asleep"))
    e2.selectbox(tr(TEXT, "grain"), rule_store.GRAINS, key=K + "grain", format_func=labeler(TEXT, "grain."),
                 disabled=locked or condition == "fell_asleep")
    f1, f2, f3 = st.columns(3)
    f1.text_input(tr(TEXT, "email"), key=K + "email", disabled=locked)
    f2.text_input(tr(TEXT, "telegram"), key=K + "telegram", disabled=locked, placeholder="-1001234567890")
    f3.text_input(tr(TEXT, "webhook"), key=K + "webhook", disabled=locked, placeholder="https://")
    st.checkbox(tr(TEXT, "enabled"), key=K + "enabled", disabled=locked)
    _buttons(picked, locked, test_send)


def _buttons(picked: int | None, locked: bool, test_send: TestSend) -> None:
    """Save, delete and one test send per channel filled in."""
    b = st.columns([2, 2, 2, 2, 2])
    if b[0].button(tr(TEXT, "save"), key=f"{K}save", type="primary", disabled=locked):
        try:
            if picked is None:
                picked = writes.write(alerts.add_rule, _rule_from_widgets())
            else:
                writes.write(alerts.update_rule, picked, _rule_from_widgets())
            _done("saved", picked)
        except UserDataError as exc:
            st.error(exc.text(lang()), icon=":material/error:")
        except writes.WriteRefused as exc:
            st.error(str(exc))
    if picked is not None and b[1].button(tr(TEXT, "delete"), key=f"{K}delete", disabled=locked):
        writes.write(alerts.delete_rule, picked)
        _done("deleted", None)
    rule = _rule_from_widgets()
    for i, channel in enumerate(rule["channels"], start=2):
        kind = channel["kind"]
        if b[i].button(tr(TEXT, "test", kind=tr(TEXT, kind)), key=f"{K}test_{kind}", disabled=locked):
            if kind == "email":
                channel = {"kind": "email", "to": [a.strip() for a in channel["to"].split(",") if a.strip()]}
            error = writes.act(test_send, channel, lang(), data.query(userdata.get_setting, "alerts"))
            (st.error(fmt.plain(error)) if error else st.success(tr(TEXT, "test.ok")))


def _done(what: str, rule_id: int | None) -> None:
    """Rerun with the saved rule picked (the table above shows it) and say so at the top of the panel."""
    st.session_state[f"{K}flash"] = what
    st.session_state[f"{K}pick_next"] = rule_id
    st.rerun()


def _where(scope_key: str, names: dict[int, str]) -> str:
    """A send's scope in words: the whole programme, a model, a partner's name."""
    kind, _, value = scope_key.partition(":")
    if kind == "partner" and value.isdigit():
        return str(names.get(int(value), value))
    return model_label(value) if kind == "model" else tr(TEXT, "scope.all")


def history(names: dict[int, str]) -> None:
    """The last 50 sends."""
    st.subheader(tr(TEXT, "history"), anchor=False)
    rows = data.query(alerts.send_history)
    if rows.empty:
        st.caption(tr(TEXT, "no_history"))
        return
    cols = ("sent_at", "rule", "scope_key", "channel", "event", "result", "error", "attempt")
    rows = rows.assign(scope_key=rows["scope_key"].map(lambda k: _where(str(k), names)),  # cells: literal text
                       sent_at=rows["sent_at"].map(_when),
                       event=rows["event"].map(labeler(TEXT, "ev.")), result=rows["result"].map(labeler(TEXT, "res.")))
    shown = rows[list(cols)].rename(columns={c: tr(TEXT, f"col.{'name' if c == 'rule' else c}") for c in cols})
    st.dataframe(shown, hide_index=True, key=f"{K}history", placeholder=fmt.DASH)


def render(test_send: TestSend, configured: dict[str, Any]) -> None:
    """The whole panel."""
    st.subheader(tr(TEXT, "rules"), anchor=False)
    flash = st.session_state.pop(f"{K}flash", None)
    if flash:
        st.success(tr(TEXT, flash))
    if f"{K}pick_next" in st.session_state:  # before the pick widget exists: a widget's state is set only then
        st.session_state[f"{K}pick"] = st.session_state.pop(f"{K}pick_next")
        _load(st.session_state[f"{K}pick"])
    st.caption(tr(TEXT, "caption", token=tr(TEXT, "set" if configured.get("telegram_token") else "missing"),
                  secret=tr(TEXT, "set" if configured.get("webhook_secret") else "missing"),
                  url=configured.get("dashboard_url", "")))
    names = {int(p): str(n) for p, n in data.query(lookups.partners)[["partner_id", "name"]].itertuples(index=False)}
    rules_table(names)
    form(names, test_send)
    history(names)
