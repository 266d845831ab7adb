-- commission_details: one row per partner x commission rule that rewarded something in scope: the rule,
-- its base (revenue for percent rules, count of deals / qualified leads for fixed rules), the effective
-- rate and the amount; tier_kind (marginal / whole) says how a tiered rule's bands applied (null without tiers).
-- Parameters: those of _scope and _costs. Template inputs: those of _scope and _costs (grouping by partner).
with
{% include "_scope.sql" %}
,
{% include "_costs.sql" %}
,
per_rule as (
    select partner_id, rule_id, sum(n) as events, sum(revenue) as revenue, sum(amount) as amount,
        min(month) as first_month, max(month) as last_month, max(month_base) as max_month_base
    from rule_hits
    group by partner_id, rule_id
)
select
    pr.partner_id, pm.name as partner, pm.model, pr.rule_id,
    case when r.partner_id is not null then 'partner' else 'model' end as rule_scope,
    r.kind, r.rate, r.tiers,
    case when r.kind = 'percent_revenue' and nullif(trim(r.tiers), '') is not null then r.tier_kind end as tier_kind,
    r.valid_from, r.valid_to,
    pr.events, pr.revenue,
    case when r.kind = 'percent_revenue' then pr.revenue else pr.events end as base,
    case when r.kind = 'percent_revenue' then pr.amount / nullif(pr.revenue, 0) else r.rate end as effective_rate,
    pr.amount, pr.first_month, pr.last_month
from per_rule pr
join m_rules r on r.rule_id = pr.rule_id
left join pm on pm.partner_id = pr.partner_id
order by pm.name, pr.partner_id, pr.rule_id
