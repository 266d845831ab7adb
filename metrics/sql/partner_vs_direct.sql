-- partner_vs_direct: one row per segment — each model with leads or deals, 'partners' (all partner leads)
-- and 'direct' — with leads, cohort won leads, won deals in scope, revenue and median days to close.
-- Parameters and template inputs: those of _scope (one scope).
with
{% include "_scope.sql" %}
,
lead_seg as (
    select case when grouping(model) = 0 then model
                when partner_id_is_null then 'direct' else 'partners' end as segment,
        sum(leads) as leads, sum(won_leads) as cohort_won
    from (select model, partner_id is null as partner_id_is_null, leads, won_leads from lead_days)
    group by grouping sets ((model), (partner_id_is_null))
    having grouping(model) = 0 or not partner_id_is_null
),
deal_seg as (
    select case when grouping(model) = 0 then model
                when partner_id_is_null then 'direct' else 'partners' end as segment,
        count(*) as won_deals, sum(amount) as revenue, median(close_days) as time_to_close_days
    from (select model, partner_id is null as partner_id_is_null, amount, close_days from deal_rows)
    group by grouping sets ((model), (partner_id_is_null))
    having grouping(model) = 0 or not partner_id_is_null
)
select segment,
    coalesce(l.leads, 0) as leads, coalesce(l.cohort_won, 0) as cohort_won,
    coalesce(d.won_deals, 0) as won_deals, coalesce(d.revenue, 0.0) as revenue, d.time_to_close_days
from lead_seg l
full join deal_seg d using (segment)
