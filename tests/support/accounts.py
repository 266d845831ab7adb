"""Tiny amoCRM accounts for metric tests: API-shaped records -> normalise -> save_batch -> lead_facts.

`Account` collects records the way the API returns them; `build(path)` saves them through the real
data layer and writes user tables (partners, ledger, rules, settings) directly.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from data_layer import normalise, save, store

WON, LOST = 142, 143
# Pipeline 1: incoming (type 1), new, qualified (the default qualification stage: 2nd regular), offer.
STAGES = {"incoming": 10, "new": 11, "qualified": 12, "offer": 13}
STAGE_SORT = {10: 10, 11: 20, 12: 30, 13: 40, WON: 10000, LOST: 11000}


def ts(day: date | str, hour: int = 12, minute: int = 0, tz: str = "Europe/Moscow") -> int:
    """Unix seconds of a local wall-clock time in a time zone."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return int(datetime.combine(d, time(hour, minute), ZoneInfo(tz)).timestamp())


def _status(pipeline_id: int, sid: int, name: str, sort: int, kind: int = 0) -> dict:
    return {"id": sid, "name": name, "sort": sort, "type": kind, "pipeline_id": pipeline_id}


def pipeline_record(pipeline_id: int, offset: int = 0) -> dict:
    """A pipeline with incoming/new/qualified/offer stages plus the shared 142/143."""
    sids = {k: v + offset for k, v in STAGES.items()}
    statuses = [_status(pipeline_id, sids["incoming"], "Неразобранное", 10, 1),
                _status(pipeline_id, sids["new"], "Новый", 20), _status(pipeline_id, sids["qualified"], "Квалифицирован", 30),
                _status(pipeline_id, sids["offer"], "КП", 40), _status(pipeline_id, WON, "Успешно", 10000),
                _status(pipeline_id, LOST, "Закрыто", 11000)]
    return {"id": pipeline_id, "name": f"Воронка {pipeline_id}", "sort": pipeline_id, "is_main": pipeline_id == 1,
            "_embedded": {"statuses": statuses}}


@dataclass
class Account:
    """Records of one test account, in API shape."""

    tz: str = "Europe/Moscow"
    leads: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    pipelines: list[dict] = field(default_factory=lambda: [pipeline_record(1)])
    partners: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    ledger: list[tuple[str, str, str, float]] = field(default_factory=list)
    rules: list[dict] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    def partner(self, name: str, model: str | None, start_date: str | None = None) -> str:
        """Declare a partner of the reference table with its model (and start date, 'YYYY-MM-DD')."""
        self.partners.append((name, model, start_date))
        return name

    def lead(self, created: str | int, partner: str | None = None, status: int | str = "new", price: float = 0,
             closed: str | int | None = None, pipeline: int = 1, contact: int | None = None,
             company: int | None = None, loss_reason: str | None = None, utm: str | None = None,
             source: str | None = None, deleted: bool = False, n: int = 1) -> list[int]:
        """Add n identical leads; dates are 'YYYY-MM-DD' (noon, account zone) or Unix seconds."""
        return [self._one(created, partner, status, price, closed, pipeline, contact, company, loss_reason,
                          utm, source, deleted) for _ in range(n)]

    def _one(self, created, partner, status, price, closed, pipeline, contact, company, loss_reason,
             utm, source, deleted) -> int:
        lid = next(self._ids)
        offset = (pipeline - 1) * 100
        sid = status if isinstance(status, int) else STAGES[status] + offset
        created_ts = created if isinstance(created, int) else ts(created, tz=self.tz)
        closed_ts = closed if isinstance(closed, int) or closed is None else ts(closed, tz=self.tz)
        if sid in (WON, LOST) and closed_ts is None:
            closed_ts = created_ts
        fields = []
        if partner:
            fields.append({"field_id": 501, "field_name": "Партнёр", "field_type": "text",
                           "values": [{"value": partner}]})
        if utm:
            fields.append({"field_id": 502, "field_name": "utm_source", "field_code": "UTM_SOURCE",
                           "field_type": "tracking_data", "values": [{"value": utm}]})
        emb: dict[str, Any] = {}
        if contact is not None:
            emb["contacts"] = [{"id": contact, "is_main": True}]
        if company is not None:
            emb["companies"] = [{"id": company}]
        if loss_reason:
            emb["loss_reason"] = [{"id": sum(map(ord, loss_reason)), "name": loss_reason}]
        source_id = sum(map(ord, source)) if source else None
        if source:
            emb["source"] = {"id": source_id, "name": source}
        self.leads.append({
            "id": lid, "name": f"Lead {lid}", "price": price, "status_id": sid, "pipeline_id": pipeline,
            "created_at": created_ts, "updated_at": created_ts, "closed_at": closed_ts, "is_deleted": deleted,
            "source_id": source_id, "loss_reason_id": sum(map(ord, loss_reason)) if loss_reason else None,
            "custom_fields_values": fields or None, "_embedded": emb,
        })
        return lid

    def contact(self, cid: int, phone: bool = False, email: bool = False) -> int:
        """Add a contact with or without a phone / e-mail."""
        fields = []
        if phone:
            fields.append({"field_code": "PHONE", "values": [{"value": "+70000000000"}]})
        if email:
            fields.append({"field_code": "EMAIL", "values": [{"value": "a@b.c"}]})
        self.contacts.append({"id": cid, "name": f"C{cid}", "custom_fields_values": fields})
        return cid

    def moved(self, lead_id: int, before: int, after: int, at: str | int, pipeline: int = 1) -> None:
        """Record a lead_status_changed event."""
        at_ts = at if isinstance(at, int) else ts(at, tz=self.tz)
        self.events.append({
            "id": f"e{len(self.events) + 1}", "type": "lead_status_changed", "entity_id": lead_id,
            "entity_type": "lead", "created_at": at_ts,
            "value_before": [{"lead_status": {"id": before, "pipeline_id": pipeline}}],
            "value_after": [{"lead_status": {"id": after, "pipeline_id": pipeline}}],
        })

    def cost(self, partner: str, month: str, category: str, amount: float) -> None:
        """A ledger amount for a partner's month ('YYYY-MM')."""
        self.ledger.append((partner, f"{month}-01", category, amount))

    def rule(self, kind: str, rate: float, model: str | None = None, partner: str | None = None,
             tiers: list[dict] | None = None, valid_from: str | None = None, valid_to: str | None = None) -> None:
        """A commission rule of a model or of one partner."""
        self.rules.append({"kind": kind, "rate": rate, "model": model, "partner": partner,
                           "tiers": json.dumps(tiers) if tiers else None,
                           "valid_from": valid_from, "valid_to": valid_to})

    def build(self, path: Path) -> Path:
        """Save everything into the migrated database at path and rebuild lead_facts."""
        batch = normalise.merge(
            normalise.normalise_account({"id": 1, "name": "Test", "currency": "RUB",
                                         "_embedded": {"datetime_settings": {"timezone": self.tz}}}),
            normalise.normalise_pipelines(self.pipelines),
            normalise.normalise_contacts(self.contacts),
            normalise.normalise_leads(self.leads, self.tz),
            normalise.normalise_events(self.events),
        )
        with store.connect(path) as con:
            con.execute("begin")
            save.save_batch(con, batch)
            for name, model, start_date in self.partners:
                con.execute("insert into partners (name, model, model_source, start_date) values (?, ?, 'user', ?)",
                            [name, model, start_date])
            for key, value in self.settings.items():
                con.execute("insert or replace into settings (key, value) values (?, ?)", [key, json.dumps(value)])
            con.execute("commit")
        store.refresh_derived(path)
        with store.connect(path) as con:
            ids = dict(con.execute("select name, partner_id from partners").fetchall())
            for name, month, category, amount in self.ledger:
                con.execute("insert into cost_ledger (partner_id, month, category, amount) values (?, ?, ?, ?)",
                            [ids[name], month, category, amount])
            for r in self.rules:
                con.execute(
                    "insert into commission_rules (model, partner_id, kind, rate, tiers, valid_from, valid_to) "
                    "values (?, ?, ?, ?, ?, ?, ?)",
                    [r["model"], ids.get(r["partner"]), r["kind"], r["rate"], r["tiers"], r["valid_from"],
                     r["valid_to"]])
        return path


def partner_ids(path: Path) -> dict[str, int]:
    """Partner name -> partner_id of a built database."""
    with store.connect(path, read_only=True) as con:
        return dict(con.execute("select name, partner_id from partners").fetchall())

