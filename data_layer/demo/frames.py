"""The bulk path: a block turned straight into raw-table DataFrames, row for row what normalise would give."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from data_layer import identity
from data_layer.demo.account import FIELD_INDEX, FIELDS
from data_layer.demo.api_records import company_fields, contact_fields
from data_layer.demo.cast import COMPANY_NAMES, PERSON_FULL, PERSON_NAMES
from data_layer.demo.generate import Block
from data_layer.demo.lead_details import tag_table


def _nullable(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 column with -1 as null."""
    values = values.astype(np.int64)
    return pd.arrays.IntegerArray(values, values < 0)


def _text(values: np.ndarray | list[Any], repeated: bool = False) -> pd.Series | pd.Categorical:
    """A string column DuckDB scans fast: categorical when values repeat, else plain Python objects.

    (pandas 3 would otherwise infer its Arrow-backed `str` dtype, which DuckDB reads several times slower.)
    """
    return pd.Categorical(values) if repeated else pd.Series(values, dtype=object)


def block_frames(blk: Block) -> dict[str, pd.DataFrame]:
    """The block as raw-table frames, row for row what normalise would give for its records."""
    ld, lead_id = blk.leads, blk.leads["lead_id"]
    tags = tag_table()
    fv = blk.fields
    field_meta = [FIELDS[FIELD_INDEX[f]] for f in fv["field_id"].tolist()]
    frames = {
        "raw_leads": pd.DataFrame({
            "id": lead_id, "name": _text(ld["name"]), "price": ld["price"], "price_minor": ld["price_minor"],
            "responsible_user_id": ld["responsible"], "group_id": np.zeros(len(lead_id), dtype=np.int64),
            "status_id": ld["status_id"], "pipeline_id": ld["pipeline_id"],
            "loss_reason_id": _nullable(ld["loss_reason_id"]), "source_id": _nullable(ld["source_id"]),
            "created_by": ld["created_by"], "updated_by": ld["responsible"], "created_at": ld["created_at"],
            "updated_at": ld["updated_at"], "closed_at": _nullable(ld["closed_at"]),
            "is_deleted": ld["is_deleted"], "deleted_at": _nullable(ld["deleted_at"])}),
        "raw_lead_field_values": pd.DataFrame({
            "lead_id": lead_id[fv["pos"]], "field_id": fv["field_id"],
            "value_idx": np.zeros(len(fv["pos"]), dtype=np.int64),
            "field_name": _text([f[1] for f in field_meta], True),
            "field_code": _text([f[2] for f in field_meta], True),
            "field_type": _text([f[3] for f in field_meta], True),
            "value": _text(fv["value"], True), "enum_id": _nullable(fv["enum_id"])}),
        "raw_lead_tags": pd.DataFrame({
            "lead_id": lead_id[blk.tags["pos"]], "tag_id": blk.tags["tag_id"],
            "name": _text([tags[t][0] for t in blk.tags["tag_id"].tolist()], True)}),
        "raw_lead_contacts": pd.DataFrame({
            "lead_id": lead_id[blk.links["pos"]], "contact_id": blk.links["contact_id"],
            "is_main": blk.links["is_main"]}),
        "raw_lead_companies": pd.DataFrame({
            "lead_id": lead_id[blk.company_links["pos"]], "company_id": blk.company_links["company_id"]}),
        "raw_contacts": pd.DataFrame({
            "id": blk.contacts["id"], "name": _text(PERSON_FULL[blk.contacts["name_idx"]], True),
            "responsible_user_id": blk.contacts["responsible"], "created_at": blk.contacts["created_at"],
            "updated_at": blk.contacts["updated_at"], "phone_count": blk.contacts["phone_count"],
            "email_count": blk.contacts["email_count"], "is_deleted": np.zeros(len(blk.contacts["id"]), bool)}),
        "raw_companies": pd.DataFrame({
            "id": blk.companies["id"], "name": _text(COMPANY_NAMES[blk.companies["name_idx"]], True),
            "created_at": blk.companies["created_at"], "updated_at": blk.companies["updated_at"],
            "is_deleted": np.zeros(len(blk.companies["id"]), bool)}),
        "raw_lead_status_events": pd.DataFrame({
            "id": _text(blk.events["id"]), "lead_id": lead_id[blk.events["pos"]],
            "created_at": blk.events["created_at"], "created_by": blk.events["created_by"],
            "pipeline_before": blk.events["pipeline"], "status_before": blk.events["status_before"],
            "pipeline_after": blk.events["pipeline"], "status_after": blk.events["status_after"]}),
    }
    frames["raw_client_keys"] = client_key_frame(blk)
    return frames


def client_key_frame(blk: Block) -> pd.DataFrame:
    """The block's identity keys: the same fields the API records carry, through the sync's own key code."""
    c = {k: v.tolist() for k, v in blk.contacts.items()}
    rows: list[dict] = []
    for i, cid in enumerate(c["id"]):
        if c["phone_count"][i] or c["email_count"][i]:
            first, last = PERSON_NAMES[c["name_idx"][i]]
            cf = contact_fields(cid, first, last, c["phone_count"][i], c["email_count"][i], c["phone_of"][i])
            rows += identity.contact_keys({"custom_fields_values": cf}, cid)
    for cid in blk.companies["id"].tolist():
        rows += identity.company_keys({"custom_fields_values": company_fields(cid)}, cid)
    return pd.DataFrame.from_records(rows, columns=["entity_type", "entity_id", "kind", "value"])
