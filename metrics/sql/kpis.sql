-- kpis: one row per scope (sid) x group (keys k_partner_id, k_model, k_pipeline_id, k_source, k_period; a key
-- the scope does not group by is null, all null = the whole scope) with counts, money, ratios, costs by
-- category and flags. A scope with g_seed (ungrouped) always returns its all-null row.
-- Parameters: those of _scope and _costs, plus $min_leads (int). Template inputs: those of _scope and _costs,
-- roll (roll_keys(): a scope's keys from its family's rows p joined as sc, _keys.sql), narrowed (revenue_all
-- when partner, model or source filters narrow the deals, so revenue shares need their own denominator, else
-- revenue_in_scope), clients (close_agg's and life_agg's rows when a scope computes the client metrics, else an
-- empty days-to-close column) and lost_leads (lost_agg's rows when a family is of the close view: the win rate
-- of the leads closed in the period). A CTE that no chosen branch names is not planned.
-- Families read the data once (lead_agg, deal_agg, commissions at the union of their scopes' keys); `parts`
-- rolls every scope up from its family's rows; client metrics and ledger costs are per scope.
{% from "_keys.sql" import k_partner_id, k_model, k_pipeline_id, k_source, k_period, key_cols, group_cols, roll_keys with context %}
with
{% include "_scope.sql" %}
,
{% include "_costs.sql" %}
,
lead_agg as (
    select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period,
        sum(leads) as leads, sum(qualified_leads) as qualified_leads, sum(won_leads) as cohort_won
    from lead_days
    group by all
),
deal_keyed as (
    select sid, g_clients, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period,
        amount, close_days, client, client_deals, client_revenue, preexisting,
        case model when 'referral' then cast($m_referral as double) when 'sales' then cast($m_sales as double)
            when 'service' then cast($m_service as double) when 'direct' then cast($m_direct as double)
            else cast($m_unassigned as double) end as model_margin
    from deal_rows
),
deal_agg as (
    select {{ group_cols }},
        count(*) as won_deals,
        sum(amount) as revenue,
        sum(amount * coalesce(model_margin, cast($m_account as double), 1.0)) as income,
        sum(amount) filter (where coalesce(model_margin, cast($m_account as double)) is not null) as margin_revenue,
        -- pre-existing clients' deals (fact_won_deals.preexisting): credited, but not incremental
        count(*) filter (where preexisting) as preexisting_deals,
        sum(amount) filter (where preexisting) as preexisting_revenue,
        sum(amount * coalesce(model_margin, cast($m_account as double), 1.0)) filter (where preexisting)
            as preexisting_income,
        -- a client with a single won deal ever is new in the group of that deal and its lifetime to date is
        -- that deal: counted here without the distinct-client work (3 in 4 deals of the demo)
        count(*) filter (where g_clients and client_deals = 1) as new_clients,
        count(*) filter (where g_clients and client_deals = 1) as life_deals,
        coalesce(sum(amount) filter (where g_clients and client_deals = 1), 0) as life_revenue
    from deal_keyed
    group by all
),
full_deals as (
    -- the deals of every full scope (client metrics) with that scope's own keys
    select sc.sid, {{ roll_keys() }}, p.close_days, p.client, p.client_deals, p.client_revenue
    from deal_keyed p
    join members sc on sc.fam = p.sid and sc.g_clients
),
close_agg as (
    -- median days to close, a client metric (full frames only: the median is the costly aggregate)
    select {{ group_cols }}, median(close_days) as time_to_close_days
    from full_deals
    group by all
),
group_clients as (
    -- distinct clients with more than one won deal per group with their all-time won deals and revenue (only
    -- the grouped key columns: null keys come back through `union by name`)
    select {{ group_cols }}, client, any_value(client_deals) as deals, any_value(client_revenue) as revenue
    from full_deals
    where client_deals > 1
    group by all
),
life_agg as (
    -- every won deal of those clients to date (the data's as-of date: fact_won_deals' all-time totals), any partner
    -- or direct, before or after the period end
    select {{ group_cols }}, count(*) as new_clients, sum(deals) as life_deals, sum(revenue) as life_revenue
    from group_clients
    group by all
),
lost_agg as (
    -- close-view families: lost leads closed in their days (fact_lost_close_days), beside the won deals closed
    -- then, for the win rate of the closed leads
    select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period, sum(lost) as lost_closed
    from (
        select l.closed_date as d, l.partner_id, l.model, l.pipeline_id, l.utm_source, l.source_name, l.lost,
            s.sid, s.g_partner, s.g_model, s.g_pipeline, s.g_source, s.g_unit
        from fact_lost_close_days l
        join fams s on s.close_view and l.closed_date between s.s_from and s.s_to
        where l.closed_date between $date_from and $date_to
          {% include "_where.sql" %}
    )
    group by all
),
fam_parts as (
    -- what each family reads once: lead counts, deal sums, lost leads closed (close view), commissions (family
    -- keys)
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, leads, qualified_leads, cohort_won
    from lead_agg
    union all by name
    select * from deal_agg
{% if lost_leads %}
    union all by name select * from lost_agg
{% else %}
    union all by name select sid, cast(null as hugeint) as lost_closed from fams where false
{% endif %}
    union all by name
    select {{ key_cols }}, sum(amount) as commission
    from rule_hits
    group by all
),
ledger_parts as (
    select {{ key_cols }}, category, sum(amount) as ledger
    from ledger_costs
    group by all
),
parts as (
    -- every scope's rows: its family's rows and its ledger costs rolled up to its own keys, its client metrics
    select sc.sid, {{ roll_keys() }}, p.* exclude (sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period)
    from fam_parts p
    join members sc on sc.fam = p.sid
    union all by name
    select sc.sid, {{ roll_keys() }}, p.category, p.ledger
    from ledger_parts p
    join scopes sc on sc.sid = p.sid
{% if clients %}
    union all by name select * from close_agg union all by name select * from life_agg
{% else %}
    union all by name select sid, cast(null as double) as time_to_close_days from scopes where false
{% endif %}
    union all by name
    select sid, true as seed from scopes where g_seed
),
grouped as (
    select {{ key_cols }},
        coalesce(sum(leads), 0) as leads,
        coalesce(sum(qualified_leads), 0) as qualified_leads,
        coalesce(sum(cohort_won), 0) as cohort_won,
        coalesce(sum(won_deals), 0) as won_deals,
        coalesce(sum(lost_closed), 0) as lost_closed,
        coalesce(sum(revenue), 0.0) as revenue,
        coalesce(sum(income), 0.0) as income,
        coalesce(sum(margin_revenue), 0.0) as margin_revenue,
        coalesce(sum(preexisting_deals), 0) as preexisting_deals,
        coalesce(sum(preexisting_revenue), 0.0) as preexisting_revenue,
        coalesce(sum(preexisting_income), 0.0) as preexisting_income,
        max(time_to_close_days) as time_to_close_days,
        coalesce(sum(new_clients), 0) as new_clients,
        coalesce(sum(life_deals), 0) as life_deals,
        coalesce(sum(life_revenue), 0.0) as life_revenue,
        coalesce(sum(ledger), 0.0) as costs_ledger,
        coalesce(sum(commission), 0.0) as costs_commission,
        coalesce(sum(ledger) filter (where category = 'commission'), 0.0) as cost_commission,
        coalesce(sum(ledger) filter (where category = 'bonus'), 0.0) as cost_bonus,
        coalesce(sum(ledger) filter (where category = 'marketing'), 0.0) as cost_marketing,
        coalesce(sum(ledger) filter (where category = 'training'), 0.0) as cost_training,
        coalesce(sum(ledger) filter (where category = 'support'), 0.0) as cost_support,
        coalesce(sum(ledger) filter (where category = 'other'), 0.0) as cost_other,
        coalesce(bool_or(seed), false) as is_seed
    from parts
    group by all
),
revenue_in_scope as (
    -- revenue of every lead, direct included, for the same period bucket and pipelines, when no partner / model /
    -- source filter narrows the deals: the deals in scope already are all of them
    select sid, k_pipeline_id, k_period, sum(revenue) as revenue
    from grouped
    group by all
),
revenue_all as (
    -- the same when such a filter narrows the deals: from the won deals' revenue per deal date and pipeline
    -- (fact_revenue_days of data_layer/derived.sql)
    select sid, k_pipeline_id, k_period, sum(revenue) as revenue
    from (
        select sc.sid, {{ roll_keys() }}, p.revenue
        from (
            select sid, cast(null as integer) as k_partner_id, cast(null as varchar) as k_model,
                {{ k_pipeline_id }} as k_pipeline_id, cast(null as varchar) as k_source, {{ k_period }} as k_period,
                sum(revenue) as revenue
            from (
                select s.sid, s.g_pipeline, s.g_unit, r.d, r.pipeline_id, r.revenue
                from fact_revenue_days r
                join fams s on r.close_view = s.close_view and r.d between s.s_from and s.s_to
                where r.d between $date_from and $date_to
                  and (len($pipelines) = 0 or list_contains($pipelines, r.pipeline_id))
            )
            group by all
        ) p
        join members sc on sc.fam = p.sid
    )
    group by all
),
measured as (
    select g.*,
        g.costs_ledger + g.costs_commission as costs,
        g.cohort_won / nullif(g.leads, 0) as conversion,
        g.revenue / nullif(g.won_deals, 0) as avg_check,
        g.revenue / nullif(a.revenue, 0) as revenue_share,
        case when g.margin_revenue > 0 then 'margin' when g.revenue > 0 then 'revenue'
             when coalesce(m.margin, cast($m_account as double)) is not null then 'margin'
             else 'revenue' end as income_basis,
        3.841458820694124 as z2  -- 1.959964² (95 %)
    from grouped g
    join scopes sc on sc.sid = g.sid
    left join {% if narrowed %}revenue_all{% else %}revenue_in_scope{% endif %} a on a.sid = g.sid and a.k_pipeline_id is not distinct from g.k_pipeline_id
        and a.k_period is not distinct from g.k_period
    left join pm on pm.partner_id = g.k_partner_id
    left join margins m on m.model = case when sc.g_pm
        then case when g.k_partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end else g.k_model end
    where g.leads > 0 or g.won_deals > 0 or g.lost_closed > 0 or abs(g.costs_ledger + g.costs_commission) > 1e-9 or g.is_seed
),
rated as (
    select m.*,
        (m.income - m.costs) / nullif(m.costs, 0) as roi,
        (m.income - m.preexisting_income - m.costs) / nullif(m.costs, 0) as incremental_roi,
        m.revenue - m.preexisting_revenue as incremental_revenue,
        m.preexisting_revenue / nullif(m.revenue, 0) as preexisting_share,
        m.costs / nullif(m.new_clients, 0) as cpa
    from measured m
),
kpi_rows as (
    -- ord: presentation order within each scope: period, partner by name (direct last), model (referral, sales,
    -- service, direct, unassigned), pipeline, source
    select *, row_number() over (order by sid, k_period nulls last, k_partner_id is null,
        coalesce(lower(k_partner_name), ''), case k_model when 'referral' then 0 when 'sales' then 1
            when 'service' then 2 when 'direct' then 3 when 'unassigned' then 4 end nulls last,
        k_pipeline_id nulls last, k_source nulls last, k_partner_id) as ord
    from (
        select
            r.sid, r.k_partner_id, pm.name as k_partner_name,
            case when sc.g_pm then case when r.k_partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end else r.k_model end as k_model,
            r.k_pipeline_id, p.name as k_pipeline_name,
            r.k_source, r.k_period,
            r.leads, r.qualified_leads, r.won_deals,
            r.conversion,
            -- Wilson 95 % interval (data_layer/macros.sql)
            wilson_low(r.cohort_won, r.leads, r.z2) as conversion_low,
            wilson_high(r.cohort_won, r.leads, r.z2) as conversion_high,
            -- close view: won / (won + lost) among the leads closed in the period, with its counts (the
            -- conversion's counts, leads and cohort won, are not on a close-view screen)
            case when sc.close_view then cast(r.won_deals as double) end as won_closed,
            case when sc.close_view then cast(r.lost_closed as double) end as lost_closed,
            case when sc.close_view then r.won_deals / nullif(r.won_deals + r.lost_closed, 0) end as win_rate_closed,
            case when sc.close_view then wilson_low(r.won_deals, r.won_deals + r.lost_closed, r.z2) end
                as win_rate_closed_low,
            case when sc.close_view then wilson_high(r.won_deals, r.won_deals + r.lost_closed, r.z2) end
                as win_rate_closed_high,
            r.qualified_leads / nullif(r.leads, 0) as lead_to_qualified,
            r.cohort_won / nullif(r.qualified_leads, 0) as qualified_to_won,
            r.revenue, r.avg_check, r.revenue_share,
            r.costs, r.costs_ledger, r.costs_commission,
            r.income, r.income_basis,
            r.income - r.costs as profit,
            r.roi,
            roi_band(r.roi) as roi_band,
            r.preexisting_deals, r.incremental_revenue, r.preexisting_share, r.incremental_roi,
            case when sc.g_clients then r.new_clients end as new_clients,
            case when sc.g_clients then r.cpa end as cpa,
            case when sc.g_clients then r.life_revenue / nullif(r.new_clients, 0) - r.cpa end as ltv,
            case when sc.g_clients then r.life_deals / nullif(r.new_clients, 0) end as purchases_per_client,
            r.time_to_close_days,
            r.leads < $min_leads as too_few,
            r.cost_commission, r.cost_bonus, r.cost_marketing, r.cost_training, r.cost_support, r.cost_other
        from rated r
        join scopes sc on sc.sid = r.sid
        left join pm on pm.partner_id = r.k_partner_id
        left join raw_pipelines p on p.id = r.k_pipeline_id
    )
)
select * exclude (ord)
from kpi_rows
order by ord
