-- fragment _scope: shared CTEs of the KPI queries (spliced in by an include of _scope.sql).
-- One query computes one or more scopes at once (a page's frames: the period and its comparison period, the
-- same period by month, ...): $scopes lists them, each with its dates, its view and how it groups; every row
-- below carries its scope's columns (sid, s_from, s_to, close_view, g_*), and the group keys k_partner_id,
-- k_model, k_pipeline_id, k_source, k_period are whitelisted expressions over those columns (_keys.sql: a key a
-- scope does not group by is null). All scopes share the partner / model / pipeline / source filters of _where.
-- Template inputs: detailed (lead_days from the detailed day table), deal_views (scope_deals) and those of
-- _keys.sql for the fragments that follow.
--   scopes:      one row per scope (g_clients: compute the client metrics, new clients, CPA, LTV and days to
--                close; a "lite" frame leaves them null and skips that work; fams: its families).
--   members:     one row per scope x family it rolls up from (fam), with the scope's columns.
--   fams:        one row per family: days of one view that scopes share and read once (kpis: each segment of
--                the days between the scopes' first and last days; elsewhere every scope is its own family).
--                lead_rows, lead_days and scope_deals are per family: their sid is the family's, their flags and
--                keys the union of its scopes' (metrics.engine._families).
--   margins:     one row per model with its gross margin (null = none: income = revenue).
--   pm:          one row per partner: its current model (null = 'unassigned') and gross margin.
--   lead_rows:   one row per scope x lead created in its period matching every filter (L of metrics-spec).
--   lead_days:   the counts of those leads (leads, qualified_leads, won_leads) per scope x creation day d x
--                partner x model (x pipeline x source with the input detailed: fact_lead_days, else
--                fact_lead_days_partner).
--   scope_deals: one row per scope x won deal dated in its period (d = creation date in the cohort view, close
--                date in the close view) matching the pipeline filter; from fact_won_deals (data_layer/derived.sql):
--                cohort_deals, close_deals or both, as the input deal_views says.
--   deal_rows:   those matching every filter (the won deals in scope).
-- Parameters: $scopes and $fams (lists of scope structs, see metrics.engine._scope), $date_from / $date_to (the span of all
--   scopes, for pruning), those of _where, $m_account, $m_referral, $m_sales, $m_service, $m_direct,
--   $m_unassigned (margin fractions or null).
scopes as (
    select s.sid, s.date_from as s_from, s.date_to as s_to, s.close_view, s.g_partner, s.g_model, s.g_pipeline,
        s.g_source, s.g_unit, s.g_split, s.g_seed, s.g_pm, s.g_clients, s.fams
    from (
        select unnest(cast($scopes as struct(sid integer, date_from date, date_to date, close_view boolean,
            g_partner boolean, g_model boolean, g_pipeline boolean, g_source boolean, g_unit varchar,
            g_split boolean, g_seed boolean, g_pm boolean, g_clients boolean, fams integer[])[])) as s
    )
),
members as (
    -- each scope once per family it rolls up from (the segments of its days, see metrics.engine._families)
    select *, unnest(fams) as fam from scopes
),
fams as (
    -- the families the data rows are read for (sid = family id; flags: the union of its scopes')
    select s.sid, s.date_from as s_from, s.date_to as s_to, s.close_view, s.g_partner, s.g_model, s.g_pipeline,
        s.g_source, s.g_unit, s.g_split, s.g_seed, s.g_pm, s.g_clients
    from (
        select unnest(cast($fams as struct(sid integer, date_from date, date_to date, close_view boolean,
            g_partner boolean, g_model boolean, g_pipeline boolean, g_source boolean, g_unit varchar,
            g_split boolean, g_seed boolean, g_pm boolean, g_clients boolean, fams integer[])[])) as s
    )
),
margins as (
    select model, coalesce(margin, cast($m_account as double)) as margin
    from (values
        ('referral', cast($m_referral as double)), ('sales', cast($m_sales as double)),
        ('service', cast($m_service as double)), ('direct', cast($m_direct as double)),
        ('unassigned', cast($m_unassigned as double))
    ) t(model, margin)
),
pm as (
    select p.partner_id, p.name, coalesce(p.model, 'unassigned') as model, m.margin
    from partners p
    left join margins m on m.model = coalesce(p.model, 'unassigned')
),
lead_rows as not materialized (
    select l.lead_id, l.partner_id, l.model, l.pipeline_id, l.utm_source, l.source_name, l.created_date as d,
        l.amount, l.is_qualified, l.is_won, l.is_lost, l.has_phone, l.has_email, l.loss_reason, l.created_date,
        l.closed_date, s.sid, s.s_from, s.s_to, s.close_view, s.g_partner, s.g_model, s.g_pipeline,
        s.g_source, s.g_unit
    from lead_facts l
    join fams s on l.created_date between s.s_from and s.s_to
    where l.created_date between $date_from and $date_to
      {% include "_where.sql" %}
),
lead_days as not materialized (
    select l.created_date as d, l.partner_id, l.model, l.pipeline_id, l.utm_source, l.source_name, l.leads,
        l.qualified_leads, l.won_leads, s.sid, s.s_from, s.s_to, s.close_view, s.g_partner, s.g_model, s.g_pipeline,
        s.g_source, s.g_unit
    from {% if detailed %}fact_lead_days{% else %}fact_lead_days_partner{% endif %} l
    join fams s on l.created_date between s.s_from and s.s_to
    where l.created_date between $date_from and $date_to
      {% include "_where.sql" %}
),
cohort_deals as not materialized (
    -- won deals of the cohort-view families, by creation date (each view its own CTE so each is a plain range join)
    select w.lead_id, w.partner_id, w.model, w.pipeline_id, w.utm_source, w.source_name, w.created_date as d,
        w.amount, w.close_days, w.client, w.client_deals, w.client_revenue, w.created_date, w.closed_date,
        w.is_qualified, w.preexisting, s.sid, s.s_from, s.s_to, s.close_view, s.g_partner, s.g_model, s.g_pipeline,
        s.g_source, s.g_unit, s.g_clients
    from fact_won_deals w
    join fams s on not s.close_view and w.created_date between s.s_from and s.s_to
    where w.created_date between $date_from and $date_to
      and (len($pipelines) = 0 or list_contains($pipelines, w.pipeline_id))
),
close_deals as not materialized (
    -- won deals of the close-view families, by close date
    select w.lead_id, w.partner_id, w.model, w.pipeline_id, w.utm_source, w.source_name, w.closed_date as d,
        w.amount, w.close_days, w.client, w.client_deals, w.client_revenue, w.created_date, w.closed_date,
        w.is_qualified, w.preexisting, s.sid, s.s_from, s.s_to, s.close_view, s.g_partner, s.g_model, s.g_pipeline,
        s.g_source, s.g_unit, s.g_clients
    from fact_won_deals w
    join fams s on s.close_view and w.closed_date between s.s_from and s.s_to
    where w.closed_date between $date_from and $date_to
      and (len($pipelines) = 0 or list_contains($pipelines, w.pipeline_id))
),
scope_deals as not materialized (
    -- the won deals of the views the families use (input deal_views): an unused view's CTE is not planned
{% if deal_views == ("cohort",) %}
    select * from cohort_deals
{% elif deal_views == ("close",) %}
    select * from close_deals
{% else %}
    select * from cohort_deals union all select * from close_deals
{% endif %}
),
deal_rows as (
    select *
    from scope_deals
    where true
      {% include "_where.sql" %}
)
