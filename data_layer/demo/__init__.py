"""Embedded demo account: a realistic amoCRM account generated deterministically and loaded like a sync.

One vectorised core (``generate._draw_block``) draws every random number as numpy arrays per block of leads.
The record path (``api_records``) formats those arrays into API-shaped dicts (amoCRM API v4) and ``load``
saves them through ``normalise`` + ``save.save_batch``, exactly as the sync does; the bulk path (large sizes,
``frames``) turns the same arrays straight into raw-table DataFrames. Both paths therefore produce identical
tables for the same (n_leads, seed, end_date).

Modules, each importing only those above it:
  account       the CRM side: ids, users, pipelines and stages, loss reasons, sources, fields, tags
  cast          the partners and their intended economics, direct leads, clients' names
  plan          Plan: the time grid and each month's partner mix
  lead_details  each lead's stage path, price, loss reason, source, title, field values and tags
  clients       outcomes, new contacts and companies, repeat purchases (State between blocks)
  generate      Block, Stats, iter_blocks: the random draws of one block in their fixed order
  api_records   the account as API v4 records; generate_records
  frames        the bulk path's raw-table DataFrames
  user_tables   partner cards, cost ledger, commission rules, settings, meta, the run record
  load          load_demo: the database writer
  cli           `python -m data_layer demo` (add_arguments, run)
"""

from __future__ import annotations

from data_layer.demo.api_records import generate_records
from data_layer.demo.cast import SPECS, PartnerSpec
from data_layer.demo.cli import add_arguments, run
from data_layer.demo.generate import Block, Stats, iter_blocks
from data_layer.demo.lead_details import event_ids, tag_table
from data_layer.demo.load import load_demo
from data_layer.demo.plan import Plan, account_today, build_plan, midnight_ts

__all__ = [
    "SPECS",
    "Block",
    "PartnerSpec",
    "Plan",
    "Stats",
    "account_today",
    "add_arguments",
    "build_plan",
    "event_ids",
    "generate_records",
    "iter_blocks",
    "load_demo",
    "midnight_ts",
    "run",
    "tag_table",
]
