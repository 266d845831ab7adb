-- monthly: one row per group (keys as kpis, normally the month plus an optional second key) with the chart
-- inputs only: leads, won deals, revenue, income, costs (ledger + computed commissions), profit and ROI.
-- A lighter cut of kpis (no clients, lifetime or medians). Parameters and template inputs: those of kpis.
{% from "_keys.sql" import k_partner_id, k_model, k_pipeline_id, k_source, k_period, key_cols with context %}
with
{% include "_scope.sql" %}
,
{% include "_costs.sql" %}
,
parts as (
    select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period, sum(leads) as leads
    from lead_days
    group by all
    union all by name
    select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period,
        count(*) as won_deals, sum(amount) as revenue,
        sum(amount * coalesce(case model when 'referral' then cast($m_referral as double)
            when 'sales' then cast($m_sales as double) when 'service' then cast($m_service as double)
            when 'direct' then cast($m_direct as double) else cast($m_unassigned as double) end,
            cast($m_account as double), 1.0)) as income
    from deal_rows
    group by all
    union all by name
    select {{ key_cols }}, sum(amount) as ledger
    from ledger_costs
    group by all
    union all by name
    select {{ key_cols }}, sum(amount) as commission
    from rule_hits
    group by all
),
grouped as (
    select {{ key_cols }},
        coalesce(sum(leads), 0) as leads, coalesce(sum(won_deals), 0) as won_deals,
        coalesce(sum(revenue), 0.0) as revenue, coalesce(sum(income), 0.0) as income,
        coalesce(sum(ledger), 0.0) as costs_ledger, coalesce(sum(commission), 0.0) as costs_commission,
        coalesce(sum(ledger), 0.0) + coalesce(sum(commission), 0.0) as costs
    from parts
    group by all
    having coalesce(sum(leads), 0) > 0 or coalesce(sum(won_deals), 0) > 0
        or abs(coalesce(sum(ledger), 0.0) + coalesce(sum(commission), 0.0)) > 1e-9
)
select g.sid, g.k_partner_id, pm.name as k_partner_name,
    case when sc.g_pm then case when g.k_partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end else g.k_model end as k_model,
    g.k_pipeline_id, p.name as k_pipeline_name,
    g.k_source, g.k_period, g.leads, g.won_deals, g.revenue, g.income, g.costs, g.costs_ledger,
    g.costs_commission, g.income - g.costs as profit,
    (g.income - g.costs) / nullif(g.costs, 0) as roi,
    roi_band((g.income - g.costs) / nullif(g.costs, 0)) as roi_band
from grouped g
join scopes sc on sc.sid = g.sid
left join pm on pm.partner_id = g.k_partner_id
left join raw_pipelines p on p.id = g.k_pipeline_id
