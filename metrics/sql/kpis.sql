-- kpis: one row per scope (sid) x group (keys k_partner_id, k_model, k_pipeline_id, k_source, k_period; a key
-- the scope does not group by is null, all null = the whole scope) with counts, money, ratios, costs by
-- category and flags. A scope with g_seed (ungrouped) always returns its all-null row.
-- Parameters: those of _scope and _costs, plus $min_leads (int) and $who_filtered (bool: partner, model or
-- source filters narrow the deals, so revenue shares need their own denominator). Slots: see _scope, and
-- {{roll_keys}} (a scope's keys from its family's rows p joined as sc: metrics.sql.scope_slots).
-- Families read the data once (lead_agg, deal_agg, commissions at the union of their scopes' keys); `parts`
-- rolls every scope up from its family's rows; client metrics and ledger costs are per scope.
with
-- include: _scope
,
-- include: _costs
,
-- include: _kpi_rows
select * exclude (ord)
from kpi_rows
order by ord
