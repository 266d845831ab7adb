-- forecast_counts: one row per period x group — leads created in the period, and won deals and their revenue
-- CLOSED in it (the close date, whatever the view). Same scope as the KPI engine: current model of the
-- partner (direct when none), sources match the UTM source or the amoCRM source name.
-- Columns: period (date), group_key (total | model | partner_id as text), label, leads, won_deals, revenue.
-- Parameters: $grain ('month' | 'week'), $by ('total' | 'model' | 'partner'), $date_from, $date_to (dates,
--   inclusive); $partners (int[]), $models (varchar[]), $pipelines (bigint[]), $sources (varchar[]) — empty = all.
with scoped as (
    select f.created_date, f.closed_date, f.is_won, f.amount, f.partner_id, p.name as partner,
        case when f.partner_id is null then 'direct' else coalesce(p.model, 'unassigned') end as model
    from lead_facts f
    left join partners p on p.partner_id = f.partner_id
    where (f.created_date between $date_from and $date_to
           or (f.is_won and f.closed_date between $date_from and $date_to))
      and (len($pipelines) = 0 or list_contains($pipelines, f.pipeline_id))
      and (len($sources) = 0 or list_contains($sources, f.utm_source) or list_contains($sources, f.source_name))
),
who as (
    select *,
        case $by when 'model' then model when 'partner' then cast(partner_id as varchar) else 'total' end
            as group_key,
        case $by when 'model' then model when 'partner' then partner else 'total' end as label
    from scoped
    where (len($partners) = 0 or list_contains($partners, partner_id))
      and (len($models) = 0 or list_contains($models, model))
      and ($by <> 'partner' or partner_id is not null)
),
created as (
    select cast(date_trunc($grain, created_date) as date) as period, group_key, any_value(label) as label,
        count(*) as leads
    from who
    where created_date between $date_from and $date_to
    group by all
),
closed as (
    select cast(date_trunc($grain, closed_date) as date) as period, group_key, any_value(label) as label,
        count(*) as won_deals, sum(amount) as revenue
    from who
    where is_won and closed_date between $date_from and $date_to
    group by all
)
select coalesce(c.period, w.period) as period, coalesce(c.group_key, w.group_key) as group_key,
    coalesce(c.label, w.label) as label, coalesce(c.leads, 0) as leads,
    coalesce(w.won_deals, 0) as won_deals, coalesce(w.revenue, 0.0) as revenue
from created c
full join closed w on w.period = c.period and w.group_key = c.group_key
