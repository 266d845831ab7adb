"""`python -m reports alerts`: judge the alert rules (programme.alerts), send what started or cleared and retry what
failed before, one line per event.

A run is three short units of work with the file closed in between: evaluate and record the events (one write
transaction), send every pending (event, channel) with the file closed, then record each attempt. `--dry-run`
opens the file read-only, prints what would be sent and changes nothing. A channel that fails never fails the run
(exit 0; the next run retries it); only a broken database or configuration exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from data_layer import store, userdata
from data_layer.userdata.alerts import channels_of
from metrics.registry import METRICS
from presentation import fmt
from presentation.i18n import metric_label, model_label
from presentation.links import dashboard_url
from programme import alerts
from reports import channels
from reports.safe import redact

TEXT = {
    "ru": {
        "start": "Оповещение", "clear": "Снято", "all": "вся программа", "model": "модель «{model}»",
        "partner": "партнёр «{partner}»",
        "cond.below": "ниже {threshold}", "cond.above": "выше {threshold}",
        "cond.change_pct": "изменение больше {threshold}", "cond.anomaly": "аномалия (правило страницы трендов)",
        "cond.fell_asleep": "партнёр уснул",
        "what": "Что: {metric} — {condition}", "where": "Где: {where}",
        "value": "Значение: {value} за {period}", "threshold": "Порог: {threshold}",
        "previous": "Было: {value} за {period}", "band": "Обычный диапазон: {low} … {high}",
        "asleep": "Нет лидов {days} дн., последний лид {day}", "link": "Открыть: {url}",
        "line": "{event} · {rule} · {where} · {value} · {channel}: {result}",
        "dry": "будет отправлено", "retry": "повтор, попытка {n}", "ok": "отправлено", "failed": "ошибка — {error}",
        "summary": "Оповещения: событий {events}, отправлено {sent}, ошибок {failed} (повтор при следующем запуске).",
        "dry_summary": "Проверка без отправки: событий {events}, отправок {sends}; ничего не изменено.",
        "test": "Проверка канала оповещений Partner ROI: если вы это читаете, канал работает.",
        "test_subject": "Partner ROI: проверка канала",
    },
    "en": {
        "start": "Alert", "clear": "Cleared", "all": "the whole programme", "model": "model “{model}”",
        "partner": "partner “{partner}”",
        "cond.below": "below {threshold}", "cond.above": "above {threshold}",
        "cond.change_pct": "changed by more than {threshold}", "cond.anomaly": "anomaly (the trends page's rule)",
        "cond.fell_asleep": "partner fell asleep",
        "what": "What: {metric} — {condition}", "where": "Where: {where}",
        "value": "Value: {value} for {period}", "threshold": "Threshold: {threshold}",
        "previous": "Before: {value} for {period}", "band": "Usual range: {low} … {high}",
        "asleep": "No lead for {days} days, last lead {day}", "link": "Open: {url}",
        "line": "{event} · {rule} · {where} · {value} · {channel}: {result}",
        "dry": "would be sent", "retry": "retry, attempt {n}", "ok": "sent", "failed": "failed — {error}",
        "summary": "Alerts: {events} events, {sent} sent, {failed} failed (retried on the next run).",
        "dry_summary": "Dry run: {events} events, {sends} sends; nothing changed.",
        "test": "Partner ROI alert channel check: if you read this, the channel works.",
        "test_subject": "Partner ROI: channel check",
    },
}


def say(lang: str, key: str, **kwargs: object) -> str:
    """A sentence of the alerts in RU or EN."""
    return TEXT["en" if lang == "en" else "ru"][key].format(**kwargs)


# ---------------------------------------------------------------- the message

def value_text(metric: str, value: float | None, lang: str) -> str:
    """A metric's value as the dashboard writes it (money, percent, count, days)."""
    unit = METRICS[metric].unit if metric in METRICS else "count"
    if unit == "money":
        return fmt.money(value, lang)
    if unit == "fraction":
        return fmt.pct(value, lang)
    return fmt.num(value, lang, 0 if unit == "count" or value is None or float(value).is_integer() else 1)


def _threshold(rule: dict[str, Any], lang: str) -> str:
    if rule["condition"] == "change_pct":
        return fmt.pct(rule["threshold"], lang)
    return value_text(rule["metric"], rule["threshold"], lang)


def where_text(event: dict[str, Any], lang: str) -> str:
    """The scope in words: the whole programme, a model, a partner (CRM names as plain text)."""
    detail, kind = event["detail"], event["scope_key"].partition(":")[0]
    if kind == "partner":
        partner = detail.get("partner") or event["scope_key"]
        return say(lang, "partner", partner=partner) + (f" ({model_label(detail['model'], lang)})"
                                                        if detail.get("model") else "")
    if kind == "model":
        return say(lang, "model", model=model_label(detail.get("model"), lang))
    return say(lang, "all")


def link(event: dict[str, Any], rule: dict[str, Any], base: str, lang: str) -> str:
    """The dashboard view of the event: its page, its period, its partner or model."""
    kind, _, value = event["scope_key"].partition(":")
    page = "partners" if kind == "partner" else "trends"
    lo, hi = event.get("period_from"), event.get("period_to")
    extra = {"selected": value} if kind == "partner" else {}  # the partner's own page, not the leaderboard
    return dashboard_url(base, page, **extra, period="custom" if lo else None, from_=str(lo) if lo else None,
                         to=str(hi) if hi else None, partner=[value] if kind == "partner" else None,
                         model=[value] if kind == "model" else None, view="cohort", lang="en" if lang == "en" else None)


def message(event: dict[str, Any], rule: dict[str, Any], base: str, lang: str) -> tuple[str, str]:
    """(title, text) of an event: what, where, the value, the threshold, the period and the link."""
    metric, cond = rule["metric"], rule["condition"]
    title = f"{say(lang, event['event'])}: {rule['name']}"
    period = f"{fmt.day(_date(event.get('period_from')), lang)} – {fmt.day(_date(event.get('period_to')), lang)}"
    lines = [say(lang, "what", metric=metric_label(metric, lang),
                 condition=say(lang, f"cond.{cond}", threshold=_threshold(rule, lang) if rule["threshold"] is not None
                               else "")), say(lang, "where", where=where_text(event, lang))]
    detail = event["detail"]
    if cond == "fell_asleep":
        lines.append(say(lang, "asleep", days=fmt.num(event.get("value"), lang),
                         day=fmt.day(_date(detail.get("last_lead_on")), lang)))
    else:
        lines.append(say(lang, "value", value=value_text(metric, event.get("value"), lang), period=period))
    if cond in ("below", "above", "change_pct") and rule["threshold"] is not None:
        lines.append(say(lang, "threshold", threshold=_threshold(rule, lang)))
    if cond == "change_pct" and detail.get("previous") is not None:
        before = f"{fmt.day(_date(detail.get('previous_from')), lang)} – {fmt.day(_date(detail.get('previous_to')), lang)}"
        lines.append(say(lang, "previous", value=value_text(metric, detail["previous"], lang), period=before))
    if cond == "anomaly" and detail.get("band"):
        low, high = detail["band"]
        lines.append(say(lang, "band", low=value_text(metric, low, lang), high=value_text(metric, high, lang)))
    lines.append(say(lang, "link", url=link(event, rule, base, lang)))
    return title, "\n".join(lines)


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def payload(event: dict[str, Any], rule: dict[str, Any], base: str, lang: str) -> dict[str, Any]:
    """The webhook's JSON: the event, its rule, scope, value, threshold, period, link and the message text."""
    title, text = message(event, rule, base, lang)
    kind, _, key = event["scope_key"].partition(":")
    detail = event["detail"]
    return {
        "event_id": int(event["event_id"]), "event": event["event"], "happened_at": str(event["happened_at"]),
        "rule": {"id": int(rule["rule_id"]), "name": rule["name"], "metric": rule["metric"],
                 "condition": rule["condition"], "threshold": rule["threshold"],
                 "window": int(rule["window_periods"]), "grain": rule["grain"]},
        "scope": {"kind": kind or "all", "partner_id": int(key) if kind == "partner" else None,
                  "partner": detail.get("partner"), "model": detail.get("model") or (key if kind == "model" else None)},
        "value": event.get("value"),
        "period": {"from": str(event["period_from"]) if event.get("period_from") else None,
                   "to": str(event["period_to"]) if event.get("period_to") else None},
        "url": link(event, rule, base, lang), "title": title, "text": text,
    }


# ---------------------------------------------------------------- sending

def deliver(d: alerts.Delivery, settings: channels.ChannelSettings, lang: str) -> str | None:
    """Send one pending delivery on its channel: None when delivered, else a sentence (never raises)."""
    try:
        title, text = message(d.event, d.rule, settings.dashboard_url, lang)
        kind = d.channel.get("kind")
        if kind == "telegram":
            return channels.send_telegram(settings, str(d.channel["chat_id"]), f"{title}\n{text}", lang)
        if kind == "webhook":
            return channels.send_webhook(settings, str(d.channel["url"]),
                                         payload(d.event, d.rule, settings.dashboard_url, lang), lang)
        if kind == "email":
            return channels.send_email(settings, list(d.channel.get("to") or []), title, text, lang)
        return f"unknown channel {kind!r}"
    except Exception as exc:  # a send never raises into the run; the next run retries it
        return redact(f"{type(exc).__name__}: {exc}", settings.secrets())[:300]


def test_send(channel: dict[str, Any], lang: str = "ru", stored: dict[str, Any] | None = None) -> str | None:
    """Send a check message on one channel (the settings panel's button; stored: the `alerts` setting): None when
    delivered, else a sentence."""
    settings = channels.load_settings(stored=stored)
    text = say(lang, "test")
    kind = channel.get("kind")
    if kind == "telegram":
        return channels.send_telegram(settings, str(channel.get("chat_id")), text, lang)
    if kind == "webhook":
        return channels.send_webhook(settings, str(channel.get("url")), {"event": "test", "text": text}, lang)
    return channels.send_email(settings, list(channel.get("to") or []), say(lang, "test_subject"), text, lang)


def configured(con: Any) -> dict[str, Any]:
    """What the settings panel may show of the channel settings: whether each secret is set, never its value."""
    s = channels.load_settings(stored=_stored(con))
    return {"telegram_token": bool(s.telegram_token), "webhook_secret": bool(s.webhook_secret),
            "telegram_api": s.telegram_api, "dashboard_url": s.dashboard_url}


def _stored(con: Any) -> dict[str, Any]:
    """The `alerts` setting (not secret: the dashboard and Telegram API addresses)."""
    stored = userdata.get_setting(con, "alerts", {}) or {}
    return stored if isinstance(stored, dict) else {}


def _settings(db_path: Path) -> channels.ChannelSettings:
    with store.connect(db_path, read_only=True) as con:
        return channels.load_settings(stored=_stored(con))


@dataclass(frozen=True)
class Outcome:
    """A run: one line per send (or would-be send), and the counts of its summary line."""

    lines: list[str]
    events: int
    sent: int
    failed: int


def _line(d: alerts.Delivery, result: str, lang: str) -> str:
    metric, value = d.rule["metric"], d.event.get("value")
    shown = value_text(metric, value, lang) if d.rule["condition"] != "fell_asleep" else fmt.num(value, lang)
    return say(lang, "line", event=say(lang, d.event["event"]), rule=d.rule["name"], where=where_text(d.event, lang),
               value=shown, channel=d.channel_key, result=result)


@contextlib.contextmanager
def one_run(db_path: Path) -> Iterator[None]:
    """One alerts run per database at a time (fcntl lock on <db>.alerts.lock; a second run waits for the first),
    so that an after-sync run and a cron run never send the same pending event twice."""
    fd = os.open(store.sidecar(db_path, ".alerts.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # the kernel releases the lock (also on a kill)


def run(db_path: Path, dry_run: bool = False, lang: str = "ru", as_of: date | None = None) -> Outcome:
    """Evaluate, record, send and record the sends (dry_run: read only, nothing sent)."""
    if dry_run:
        return _dry(db_path, lang, as_of)
    with one_run(db_path):
        return _run(db_path, lang, as_of)


def _run(db_path: Path, lang: str, as_of: date | None) -> Outcome:
    settings = _settings(db_path)
    with store.connect(db_path) as con, userdata.atomic(con):
        moved, seen = alerts.evaluate(con, as_of)
        alerts.record(con, moved, seen)
        todo = alerts.pending(con)
    store.bump_version(db_path)
    results = [(d, deliver(d, settings, lang)) for d in todo]  # the file is closed while we wait on the network
    if results:
        with store.connect(db_path) as con, userdata.atomic(con):
            for d, error in results:
                alerts.record_send(con, d, error is None, error)
        store.bump_version(db_path)
    lines = [_line(d, say(lang, "ok") if error is None else say(lang, "failed", error=error), lang)
             for d, error in results]
    failed = sum(error is not None for _, error in results)
    return Outcome(lines, len(moved), len(results) - failed, failed)


def _dry(db_path: Path, lang: str, as_of: date | None) -> Outcome:
    """What a run would send: the pending retries and the events this run would make, on every channel."""
    with store.connect(db_path, read_only=True) as con:
        moved, _ = alerts.evaluate(con, as_of)
        todo = alerts.pending(con)
    lines = [_line(d, say(lang, "retry", n=d.attempt), lang) for d in todo]
    for i, t in enumerate(moved, start=1):
        r = t.reading
        event = {"event_id": -i, "happened_at": None, "rule_id": t.rule["rule_id"], "scope_key": r.scope_key,
                 "event": t.event, "value": r.value, "threshold": t.rule["threshold"], "period_from": r.period_from,
                 "period_to": r.period_to, "detail": r.detail}
        for n, channel in enumerate(channels_of(t.rule["channels"]), start=1):
            d = alerts.Delivery(event, t.rule, channel, f"{channel.get('kind')}#{n}", 1)
            lines.append(_line(d, say(lang, "dry"), lang))
    return Outcome(lines, len(moved), 0, 0)


# ---------------------------------------------------------------- the command

def add_arguments(p: argparse.ArgumentParser) -> None:
    """The alerts sub-command's options."""
    p.add_argument("--db", type=Path, default=None, help="database file (default PARTNER_ROI_DB or "
                                                         "cache/partner_roi.duckdb)")
    p.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing, change nothing")
    p.add_argument("--after-sync", action="store_true", help="started by a sync (data_layer.sync.after)")
    p.add_argument("--lang", choices=("ru", "en"), default="ru", help="message language (default ru)")


def main(args: argparse.Namespace) -> int:
    """Run the alerts and print one line per send and a summary; 0 even when a channel failed."""
    db = args.db or store.DEFAULT_DB
    store.upgrade(db)  # the schema only (an older file gains the alert tables); a dry run records nothing
    outcome = run(db, dry_run=args.dry_run, lang=args.lang)
    for line in outcome.lines:
        print(redact(line))
    key = "dry_summary" if args.dry_run else "summary"
    print(say(args.lang, key, events=outcome.events, sent=outcome.sent, failed=outcome.failed,
              sends=len(outcome.lines)))
    return 0
