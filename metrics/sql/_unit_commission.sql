-- fragment _unit_commission: commission rates per partner and day, to price single leads and deals
-- (spliced in after _costs).
--   day_rates: one row per partner x event day x event kind (deal / qualified lead): the summed percent
--              rate of the percent rules in force (tiers resolved to the month's effective rate) and the
--              summed fixed amounts. A deal's commission = amount x pct + fixed; a qualified lead's = fixed.
-- Parameters and template inputs: those of _scope and _costs.
day_rates as (
    select e.partner_id, e.rule_day, e.is_deal,
        sum(case when s.kind = 'percent_revenue' then coalesce(tr.eff_rate, s.rate) else 0.0 end) as pct,
        sum(case when s.kind = 'percent_revenue' then 0.0 else s.rate end) as fixed
    from (select distinct partner_id, rule_day, is_deal from ev_days) e
    join rule_spans s on s.partner_id = e.partner_id and e.rule_day between s.span_from and s.span_to
        and e.is_deal = (s.kind <> 'fixed_per_qualified_lead')
    left join tier_rate tr on tr.partner_id = e.partner_id and tr.rule_id = s.rule_id
        and tr.month = e.rule_day - cast(day(e.rule_day) - 1 as integer)
    group by all
)
