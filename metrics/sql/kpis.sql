-- kpis: one row per scope (sid) x group (keys k_partner_id, k_model, k_pipeline_id, k_source, k_period; a key
-- the scope does not group by is null, all null = the whole scope) with counts, money, ratios, costs by
-- category and flags. A scope with g_seed (ungrouped) always returns its all-null row.
-- Parameters: those of _scope and _costs, plus $min_leads (int). Slots: see _scope and _costs, and
-- {{roll_keys}} (a scope's keys from its family's rows p joined as sc: metrics.sql.scope_slots), all_revenue
-- (revenue_all when partner, model or source filters narrow the deals, so revenue shares need their own
-- denominator, else revenue_in_scope), client_part (close_agg's and life_agg's rows when a scope computes the
-- client metrics, else an empty days-to-close column) and late_part (late_deals' rows unless late_by_family). A
-- CTE no slot names is not planned.
-- Families read the data once (lead_agg, deal_agg, commissions at the union of their scopes' keys); `parts`
-- rolls every scope up from its family's rows; client metrics and ledger costs are per scope.
with
-- include: _scope
,
-- include: _costs
,
lead_agg as (
    select sid, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period,
        sum(leads) as leads, sum(qualified_leads) as qualified_leads, sum(won_leads) as cohort_won
    from lead_days
    group by all
),
deal_keyed as (
    select sid, s_to, g_clients, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period,
        amount, close_days, client, client_deals, client_revenue, closed_date,
        case model when 'referral' then cast($m_referral as double) when 'sales' then cast($m_sales as double)
            when 'service' then cast($m_service as double) when 'direct' then cast($m_direct as double)
            else cast($m_unassigned as double) end as model_margin
    from deal_rows
),
deal_agg as (
    select {{group_cols}},
        count(*) as won_deals,
        sum(amount) as revenue,
        sum(amount * coalesce(model_margin, cast($m_account as double), 1.0)) as income,
        sum(amount) filter (where coalesce(model_margin, cast($m_account as double)) is not null) as margin_revenue,
        -- a client with a single won deal ever is new in the group of that deal, its lifetime is that deal
        -- whenever it closes: counted here without the distinct-client work (3 in 4 deals of the demo)
        count(*) filter (where g_clients and client_deals = 1) as new_clients,
        -- {{late_by_family}} (every full scope is one family, so the family's end is its period end): deals in
        -- scope closing after the period end still count towards their clients' purchases (else late_deals)
        count(*) filter (where g_clients and client_deals = 1
            or {{late_by_family}} and (closed_date is null or closed_date > s_to)) as life_deals,
        coalesce(sum(amount) filter (where g_clients and client_deals = 1
            or {{late_by_family}} and (closed_date is null or closed_date > s_to)), 0) as life_revenue
    from deal_keyed
    group by all
),
full_deals as (
    -- the deals of every full scope (client metrics) with that scope's own keys
    select sc.sid, sc.s_to, {{roll_keys}}, p.close_days, p.client, p.client_deals, p.client_revenue
    from deal_keyed p
    join members sc on sc.fam = p.sid and sc.g_clients
),
close_agg as (
    -- median days to close, a client metric (full frames only: the median is the costly aggregate)
    select {{group_cols}}, median(close_days) as time_to_close_days
    from full_deals
    group by all
),
late_deals as (
    -- unless {{late_by_family}}: deals in scope of repeat clients closing after the period end (or not yet),
    -- per full scope (few rows: only deals closing after the earliest scope end)
    select {{group_cols}}, count(*) as life_deals, sum(amount) as life_revenue
    from (
        select sc.sid, sc.s_to, {{roll_keys}}, p.amount, p.closed_date
        from deal_keyed p
        join members sc on sc.fam = p.sid and sc.g_clients
        where not {{late_by_family}} and p.client_deals > 1
          and (p.closed_date is null or p.closed_date > (select min(s_to) from scopes))
    )
    where closed_date is null or closed_date > s_to
    group by all
),
group_clients as materialized (
    -- distinct clients with more than one won deal per group with their all-time won deals and revenue (only
    -- the grouped key columns: null keys come back through `union by name`)
    select {{group_cols}}, client, any_value(client_deals) as deals, any_value(client_revenue) as revenue
    from full_deals
    where client_deals > 1
    group by all
),
late_clients as (
    -- per scope, the won deals of its repeat clients (those of group_clients) closed after the scope's end or not
    -- closed yet (few when the period ends near today): lifetime counts purchases up to the period end
    select g.sid, g.client, count(*) as deals, sum(w.amount) as revenue
    from (select distinct sid, client from group_clients) g
    join scopes s on s.sid = g.sid
    join (
        select client, amount, closed_date from fact_won_deals
        where client_deals > 1 and (closed_date > (select min(s_to) from scopes) or closed_date is null)
    ) w on w.client = g.client and (w.closed_date > s.s_to or w.closed_date is null)
    group by all
),
life_agg as (
    -- every won deal of those clients up to the period end, any partner or direct
    select {{group_cols}}, count(*) as new_clients, sum(g.deals - coalesce(l.deals, 0)) as life_deals,
        sum(g.revenue - coalesce(l.revenue, 0)) as life_revenue
    from group_clients g
    left join late_clients l using (sid, client)
    group by all
),
fam_parts as (
    -- what each family reads once: lead counts, deal sums, commissions (family keys)
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, leads, qualified_leads, cohort_won
    from lead_agg
    union all by name
    select * from deal_agg
    union all by name
    select {{key_cols}}, sum(amount) as commission
    from rule_hits
    group by all
),
ledger_parts as (
    select {{key_cols}}, category, sum(amount) as ledger
    from ledger_costs
    group by all
),
parts as (
    -- every scope's rows: its family's rows and its ledger costs rolled up to its own keys, its client metrics
    select sc.sid, {{roll_keys}}, p.* exclude (sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period)
    from fam_parts p
    join members sc on sc.fam = p.sid
    union all by name
    select sc.sid, {{roll_keys}}, p.category, p.ledger
    from ledger_parts p
    join scopes sc on sc.sid = p.sid
    {{client_part}}
    {{late_part}}
    union all by name
    select sid, true as seed from scopes where g_seed
),
grouped as (
    select {{key_cols}},
        coalesce(sum(leads), 0) as leads,
        coalesce(sum(qualified_leads), 0) as qualified_leads,
        coalesce(sum(cohort_won), 0) as cohort_won,
        coalesce(sum(won_deals), 0) as won_deals,
        coalesce(sum(revenue), 0.0) as revenue,
        coalesce(sum(income), 0.0) as income,
        coalesce(sum(margin_revenue), 0.0) as margin_revenue,
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
        select sc.sid, {{roll_keys}}, p.revenue
        from (
            select sid, cast(null as integer) as k_partner_id, cast(null as varchar) as k_model,
                {{k_pipeline_id}} as k_pipeline_id, cast(null as varchar) as k_source, {{k_period}} as k_period,
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
    left join {{all_revenue}} a on a.sid = g.sid and a.k_pipeline_id is not distinct from g.k_pipeline_id
        and a.k_period is not distinct from g.k_period
    left join pm on pm.partner_id = g.k_partner_id
    left join margins m on m.model = case when sc.g_pm
        then case when g.k_partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end else g.k_model end
    where g.leads > 0 or g.won_deals > 0 or abs(g.costs_ledger + g.costs_commission) > 1e-9 or g.is_seed
),
rated as (
    select m.*,
        (m.income - m.costs) / nullif(m.costs, 0) as roi,
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
            -- Wilson 95 % interval, exact at the edges, never past the estimate through rounding
            case when r.leads = 0 then null when r.cohort_won = 0 then 0.0 else least(r.conversion, greatest(0.0,
                (r.conversion + r.z2 / (2 * r.leads)
                 - sqrt(r.z2) * sqrt(r.conversion * (1 - r.conversion) / r.leads + r.z2 / (4 * r.leads * r.leads)))
                / (1 + r.z2 / r.leads))) end as conversion_low,
            case when r.leads = 0 then null when r.cohort_won = r.leads then 1.0 else greatest(r.conversion, least(1.0,
                (r.conversion + r.z2 / (2 * r.leads)
                 + sqrt(r.z2) * sqrt(r.conversion * (1 - r.conversion) / r.leads + r.z2 / (4 * r.leads * r.leads)))
                / (1 + r.z2 / r.leads))) end as conversion_high,
            r.qualified_leads / nullif(r.leads, 0) as lead_to_qualified,
            r.cohort_won / nullif(r.qualified_leads, 0) as qualified_to_won,
            r.revenue, r.avg_check, r.revenue_share,
            r.costs, r.costs_ledger, r.costs_commission,
            r.income, r.income_basis,
            r.income - r.costs as profit,
            r.roi,
            case when r.roi is null then 'n/a' when r.roi >= 2 then 'excellent' when r.roi >= 0.5 then 'profitable'
                 when r.roi >= 0 then 'marginal' else 'loss' end as roi_band,
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
