-- tier_rates: one row per partner x tiered percent rule x month with won deals on the days the rule rewards the
-- partner: the month's base (the revenue of every such deal, whatever the filters) and the effective rate the
-- rule's bands give it: `marginal` (each band's rate on the revenue inside the band, like tax brackets) or `whole`
-- (the rate of the highest band the base reaches, on all of it; a base at a band's upper bound stays in it).
-- Depends on the rules (m_rules, partners' models) and fact_partner_days only, never on filters, so metrics.costs
-- computes it with the rule structure. No parameters.
with
{% include "_rule_chain.sql" %}
,
tier_base as (
    select e.partner_id, s.rule_id, cast(date_trunc('month', e.rule_day) as date) as month, sum(e.revenue) as base
    from fact_partner_days e
    join rule_spans s on s.partner_id = e.partner_id and e.rule_day between s.span_from and s.span_to
    where s.rule_id in (select rule_id from tier_bands)
    group by all
)
select t.partner_id, t.rule_id, t.month, t.base,
    case when any_value(b.tier_kind) = 'whole'
        then max_by(b.rate, b.lo) filter (where b.lo = 0 or t.base > b.lo)
        else sum(b.rate * greatest(0.0, least(t.base, coalesce(b.hi, t.base)) - b.lo)) / nullif(t.base, 0)
    end as eff_rate
from tier_base t
join tier_bands b on b.rule_id = t.rule_id
group by t.partner_id, t.rule_id, t.month, t.base
