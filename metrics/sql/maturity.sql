-- maturity: per scope (sid) x group (the kpis keys) of the cohort-view frames, the leads' shortfall of closed won
-- deals at the data's as-of date: Σ over the group's leads of 1 - curve(age), age = $as_of - creation date, from the
-- curve of the lead's pipeline (the all-pipelines curve when the pipeline has none of its own). The group's maturity
-- is 1 - shortfall / its leads (metrics.maturity): only leads younger than the curve's full day are read, so each
-- scope starts at most that many days before $as_of. m_close_curve is bound by metrics.maturity (close_curve.sql).
-- The pages read the same sums from maturity_young.sql (once per data version); this query is the tests' reference
-- (metrics.maturity.direct_shortfalls).
-- Parameters: $scopes (metrics.engine._scope structs), $date_from / $date_to (their span), those of _where,
-- $as_of. Template inputs: keys and period (_keys.sql: over the row's g_* flags and its day d).
{% from "_keys.sql" import k_partner_id, k_model, k_pipeline_id, k_source, k_period with context %}
with
scopes as (
    select s.sid, s.date_from as s_from, s.date_to as s_to, s.g_partner, s.g_model, s.g_pipeline, s.g_source,
        s.g_unit
    from (
        select unnest(cast($scopes as struct(sid integer, date_from date, date_to date, close_view boolean,
            g_partner boolean, g_model boolean, g_pipeline boolean, g_source boolean, g_unit varchar,
            g_split boolean, g_seed boolean, g_pm boolean, g_clients boolean, fams integer[])[])) as s
    )
),
curve as (
    select pipeline_id as c_pipeline, day as c_day, share as c_share from m_close_curve
),
young as (
    select l.created_date as d, l.partner_id, l.model, l.pipeline_id, l.utm_source, l.source_name, l.leads,
        least(greatest(cast($as_of - l.created_date as integer), 0), 730) as age,
        s.sid, s.g_partner, s.g_model, s.g_pipeline, s.g_source, s.g_unit
    from fact_lead_days l
    join scopes s on l.created_date between s.s_from and s.s_to
    where l.created_date between $date_from and $date_to
      {% include "_where.sql" %}
)
select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
    {{ k_source }} as k_source, {{ k_period }} as k_period,
    sum(leads * (1 - coalesce(c.c_share, o.c_share, 1))) as shortfall
from young
left join curve c on c.c_pipeline = young.pipeline_id and c.c_day = young.age
left join curve o on o.c_pipeline is null and o.c_day = young.age
group by all
order by sid
