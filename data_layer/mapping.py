"""What the Settings page shows while a user sets up attribution: fields, pipelines, a mapping preview.

All functions take an open connection (read-only is enough) and bind every value as a parameter.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

DEFAULTS = {"mode": "field", "field": "Партнёр", "tag_prefix": "partner:", "model_field": "Модель партнёрства"}
MODES = ("field", "tag", "utm")

# One row per distinct partner label (case/ё-insensitive) that live leads carry under a *proposed* mapping.
# It mirrors stg_lead_partner_label / stg_lead_model_label in views.sql, which read the *saved* mapping;
# a preview must work before anything is saved and on a read-only connection.
# Parameters: $mode, $field, $tag_prefix, $model_field.
PREVIEW_SQL = """
with labels as (
    select f.lead_id, any_value(trim(f.value)) as label
    from stg_lead_field_first f
    where $mode = 'field'
      and (cast(f.field_id as varchar) = $field or f.field_key = norm_name($field))
      and nullif(trim(f.value), '') is not null
    group by f.lead_id
    union all
    select t.lead_id, any_value(trim(substr(t.name, length($tag_prefix) + 1)))
    from raw_lead_tags t
    where $mode = 'tag' and starts_with(lower(t.name), lower($tag_prefix)) and length(t.name) > length($tag_prefix)
    group by t.lead_id
    union all
    select u.lead_id, trim(u.utm_source)
    from stg_utm u
    where $mode = 'utm' and nullif(trim(u.utm_source), '') is not null
),
live as (
    select l.lead_id, l.label
    from labels l join raw_leads r on r.id = l.lead_id
    where not coalesce(r.is_deleted, false)
),
model_labels as (
    select f.lead_id, f.value as model_label
    from stg_lead_field_first f
    where $model_field <> '' and (cast(f.field_id as varchar) = $model_field or f.field_key = norm_name($model_field))
),
spellings as (
    -- leads per label as written and model label: normalising (lower-casing Cyrillic) once per spelling, not
    -- once per lead, is most of the preview's cost saved
    select live.label, m.model_label, count(*) as n
    from live
    left join model_labels m on m.lead_id = live.lead_id
    group by all
),
keyed as (
    select norm_name(label) as key, label, model_label, n from spellings
),
models as (
    -- the model label most of a partner label's leads carry (the mode, nulls ignored)
    select key, arg_max(model_label, n) as model_label
    from (select key, model_label, sum(n) as n from keyed where model_label is not null group by all)
    group by key
),
partner_keys as (select key, min(partner_id) as partner_id from stg_partner_keys group by key)
select
    arg_max(k.label, k.n) as label,
    sum(k.n) as leads,
    any_value(pk.partner_id) as partner_id,
    any_value(p.name) as partner_name,
    any_value(m.model_label) as model_label
from keyed k
left join partner_keys pk on pk.key = k.key
left join partners p on p.partner_id = pk.partner_id
left join models m on m.key = k.key
group by k.key
order by leads desc, label
"""

# A CRM model label -> referral | sales | service (the same words stg_lead_model_label recognises).
MODEL_SQL = """
select case
    when norm_name($x) like '%реферал%' or norm_name($x) like '%referral%' then 'referral'
    when norm_name($x) like '%продаж%' or norm_name($x) like '%sales%' or norm_name($x) like '%reseller%' then 'sales'
    when norm_name($x) like '%услуг%' or norm_name($x) like '%сервис%' or norm_name($x) like '%service%' then 'service'
end
"""

# Lead custom fields with how many live leads have a value (fact_field_fill, rebuilt with every sync). No parameters.
FIELDS_SQL = """
select f.id, f.name, f.code, f.type, coalesce(filled.filled, 0) as filled
from raw_lead_fields f left join fact_field_fill filled on filled.field_id = f.id
order by f.sort nulls last, f.id
"""

# Pipelines and their stages (incoming and won/lost included, flagged). No parameters.
PIPELINES_SQL = """
select p.id as pipeline_id, p.name as pipeline_name, p.is_main, p.is_archive,
       s.status_id, s.name as status_name, s.sort, s.type, s.is_regular
from raw_pipelines p
left join stg_statuses s on s.pipeline_id = p.id
order by p.sort nulls last, p.id, s.sort nulls last, s.status_id
"""


def _mapping(mapping: dict[str, Any] | None) -> dict[str, str]:
    out = {**DEFAULTS, **{k: v for k, v in (mapping or {}).items() if v is not None}}
    if out["mode"] not in MODES:
        raise ValueError(f"Unknown mapping mode {out['mode']!r}: use one of {', '.join(MODES)}.")
    return {k: str(out[k]) for k in DEFAULTS}


def model_of(con: duckdb.DuckDBPyConnection, label: str | None) -> str | None:
    """referral / sales / service for a CRM model label, or None when it is not recognised."""
    if not label:
        return None
    return con.execute(MODEL_SQL, {"x": label}).fetchone()[0]


# The preview of the saved mapping, computed with every rebuild of the facts (store.rebuild_facts): opening the
# settings page's mapping tab after a sync then reads 25 rows instead of grouping 2.5M field values at 1M leads
# (~350 ms cold). Its key is the mapping and the partners it matched; any other proposal is computed live.
PREVIEW_KEY_SQL = """
select (select hash(list((partner_id, name) order by partner_id)) from partners),
       (select hash(list((key, partner_id) order by key, partner_id)) from stg_partner_keys)
"""


def _preview_key(con: duckdb.DuckDBPyConnection, params: dict[str, str]) -> str:
    """What a stored preview depends on besides the synced data: the mapping, the partners' names and keys."""
    names, keys = con.execute(PREVIEW_KEY_SQL).fetchone()
    return json.dumps([params, str(names), str(keys)], ensure_ascii=False, sort_keys=True)


def save_preview(con: duckdb.DuckDBPyConnection) -> None:
    """Store the saved mapping's preview (called in the rebuild's transaction)."""
    mode, field, tag_prefix, model_field = con.execute(
        "select mode, field, tag_prefix, model_field from stg_mapping").fetchone()
    params = _mapping({"mode": mode, "field": field, "tag_prefix": tag_prefix, "model_field": model_field})
    rows = con.execute(PREVIEW_SQL, params).fetchdf().assign(inputs_key=_preview_key(con, params))
    con.register("preview_rows", rows)
    try:
        con.execute("create or replace table saved_mapping_preview as select * from preview_rows")
    finally:
        con.unregister("preview_rows")


def _stored_preview(con: duckdb.DuckDBPyConnection, params: dict[str, str]) -> pd.DataFrame | None:
    """The stored preview when it was made for this mapping and these partners, else None (also when it is
    empty: its key is on its rows)."""
    try:
        stored = con.execute("select any_value(inputs_key) from saved_mapping_preview").fetchone()[0]
    except duckdb.CatalogException:  # a database rebuilt before the table existed
        return None
    if stored is None or stored != _preview_key(con, params):
        return None
    return con.execute("select * exclude (inputs_key) from saved_mapping_preview order by leads desc, label").fetchdf()


def preview_mapping(con: duckdb.DuckDBPyConnection, mapping: dict[str, Any]) -> pd.DataFrame:
    """Per distinct partner label found: leads, the partner it matches (if any), the model label found."""
    params = _mapping(mapping)
    df = _stored_preview(con, params)
    if df is None:
        df = con.execute(PREVIEW_SQL, params).fetchdf()
    df["matched"] = df["partner_id"].notna()
    models = {x: model_of(con, x) for x in set(df["model_label"]) if isinstance(x, str)}  # a few distinct labels
    df["model"] = [models.get(x) if isinstance(x, str) else None for x in df["model_label"]]
    return df[["label", "leads", "matched", "partner_id", "partner_name", "model_label", "model"]]


def list_lead_fields(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Lead custom fields (id, name, code, type) with the number of live leads that fill each one."""
    return con.execute(FIELDS_SQL).fetchdf()


def list_pipelines_with_stages(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Pipelines in CRM order, each with its stages: [{id, name, is_main, is_archive, stages: [...]}]."""
    out: dict[int, dict[str, Any]] = {}
    for row in con.execute(PIPELINES_SQL).fetchall():
        pid, pname, is_main, is_archive, sid, sname, sort, stype, regular = row
        pipe = out.setdefault(pid, {"id": pid, "name": pname, "is_main": bool(is_main),
                                    "is_archive": bool(is_archive), "stages": []})
        if sid is not None:
            pipe["stages"].append({"id": sid, "name": sname, "sort": sort, "type": stype,
                                   "is_regular": bool(regular), "is_won": sid == 142, "is_lost": sid == 143})
    return list(out.values())
