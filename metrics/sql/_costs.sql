-- fragment _costs: shared cost CTEs (spliced in after _scope by an include of _costs.sql).
--   ledger_costs: one row per scope x ledger row x period bucket (x pipeline/source share when the scope's
--                 costs are split), amount = month amount / days in month x days of the period it covers
--                 (x lead share).
--   ev_days:      one row per scope x group x partner x day of commission events (won deals, qualified leads).
--   rule_hits:    one row per scope x group x partner x commission rule x month of the events it rewards, with
--                 the events' count, revenue, the effective rate and the commission amount.
-- Reads the cost inputs (docs/sql.md, `python -m metrics.sql inputs`): m_ledger(partner_id, month, category,
-- amount) and m_rules(rule_id, model, partner_id, kind, rate, tiers, tier_kind, valid_from, valid_to), views over
-- cost_ledger / commission_rules or a what-if scenario's frames, with the rule structure m_rule_spans /
-- m_tier_rates (the results of rule_spans.sql and tier_rates.sql), all bound by metrics.costs.bind_cost_inputs.
-- A scope's ledger costs follow its leads across pipelines / sources (g_split) when it groups by them or
-- $split_filtering (the pipeline / source filters are set). Parameters: those of _scope, $split_filtering.
-- Template inputs: those of _keys.sql, and detailed (a scope splits: `split`, else the empty `no_split`).
{% from "_keys.sql" import k_partner_id, k_model, k_pipeline_id, k_source, k_period, key_cols with context %}
cal_buckets as (
    -- one row per scope x calendar month x period bucket: the days of the scope's period it holds
    select sid, cast(date_trunc('month', d) as date) as month, {{ k_period }} as k_period, count(*) as days
    from (
        select s.*, cast(unnest(generate_series(cast(s.s_from as timestamp), cast(s.s_to as timestamp),
            interval 1 day)) as date) as d
        from scopes s
    )
    group by all
),
split as (
    -- a partner's share of its period leads in each pipeline / source group (ledger costs follow leads)
    select * from (
        select sid, partner_id, k_pipeline_id, k_source,
            sum(leads) filter (where matched) / sum(sum(leads)) over (partition by sid, partner_id) as w
        from (
            select sid, partner_id, {{ k_pipeline_id }} as k_pipeline_id, {{ k_source }} as k_source, leads,
                (len($pipelines) = 0 or list_contains($pipelines, pipeline_id))
                and (len($sources) = 0 or list_contains($sources, utm_source)
                     or list_contains($sources, source_name)) as matched
            from (
                select l.*, s.*
                from fact_lead_days l
                join scopes s on s.g_split and l.created_date between s.s_from and s.s_to
                where l.created_date between $date_from and $date_to and l.partner_id is not null
                  and (len($partners) = 0 or list_contains($partners, l.partner_id))
                  and (len($models) = 0 or list_contains($models, l.model))
            )
        )
        group by sid, partner_id, k_pipeline_id, k_source
    )
    where w > 0
),
no_split as (
    -- the split of a query none of whose scopes splits its ledger costs (input detailed false): no rows, nothing read
    select cast(null as integer) as sid, cast(null as integer) as partner_id, cast(null as bigint) as k_pipeline_id,
        cast(null as varchar) as k_source, cast(null as double) as w
    where false
),
ledger_scoped as (
    -- every ledger row of the filtered partners once per scope, with the scope's partner / model keys
    select *, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model
    from (
        select l.partner_id, l.month, l.category, cast(l.amount as double) as amount,
            coalesce(pm.model, 'unassigned') as model, s.*
        from m_ledger l
        left join pm on pm.partner_id = l.partner_id
        cross join scopes s
        where (len($partners) = 0 or list_contains($partners, l.partner_id))
          and (len($models) = 0 or list_contains($models, coalesce(pm.model, 'unassigned')))
    )
),
ledger_costs as (
    select l.sid, l.k_partner_id, l.k_model, s.k_pipeline_id, s.k_source, cb.k_period, l.category, l.model,
        l.amount * cb.days / dayofmonth(last_day(cb.month))
            * case when s.partner_id is not null then s.w when $split_filtering then 0.0 else 1.0 end as amount
    from ledger_scoped l
    join cal_buckets cb on cb.sid = l.sid and cb.month = l.month
    left join {% if detailed %}split{% else %}no_split{% endif %} s on s.sid = l.sid and s.partner_id = l.partner_id
),
rule_spans as (
    -- the days each rule rewards each partner (rule_chain: own rules in force replace the model's)
    select partner_id, rule_id, kind, rate, span_from, span_to from m_rule_spans
),
ev_days as (
    -- commission events per scope, group, partner and day: won deals (dated by close) and qualified leads (by
    -- creation)
    select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period, partner_id,
        coalesce(closed_date, created_date) as rule_day, true as is_deal, count(*) as n, sum(amount) as revenue
    from deal_rows
    where partner_id is not null
    group by all
    union all
    select sid, {{ k_partner_id }}, {{ k_model }}, {{ k_pipeline_id }}, {{ k_source }}, {{ k_period }}, partner_id,
        d, false, cast(sum(qualified_leads) as bigint), 0.0
    from lead_days
    where partner_id is not null and qualified_leads > 0
    group by all
),
hit_groups as (
    -- commission events per scope x group x partner x rule x month
    select {{ key_cols }}, partner_id, rule_id, month, sum(n) as n, sum(revenue) as revenue
    from (
        select e.*, s.rule_id, e.rule_day - cast(day(e.rule_day) - 1 as integer) as month
        from ev_days e
        join rule_spans s on s.partner_id = e.partner_id and e.rule_day between s.span_from and s.span_to
            and e.is_deal = (s.kind <> 'fixed_per_qualified_lead')
    )
    group by all
),
tier_rate as (
    -- each tiered rule's effective rate per partner and month, from every won deal of the month whatever the
    -- filters (tier_rates.sql, bound with the rule structure)
    select partner_id, rule_id, month, base, eff_rate from m_tier_rates
),
rule_hits as (
    -- one row per scope x group x partner x rule x month: events counted, their revenue and the commission
    select h.*, r.kind, r.rate, tr.eff_rate, tr.base as month_base,
        case r.kind when 'percent_revenue' then h.revenue * coalesce(tr.eff_rate, r.rate)
                    else h.n * r.rate end as amount
    from hit_groups h
    join m_rules r on r.rule_id = h.rule_id  -- kind and rate (validity is in rule_spans already)
    left join tier_rate tr on tr.partner_id = h.partner_id and tr.rule_id = h.rule_id and tr.month = h.month
)
