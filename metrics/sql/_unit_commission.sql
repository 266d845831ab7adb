-- fragment _unit_commission: commission per lead / deal in scope (spliced in after _costs).
--   deal_commission: one row per won deal in scope of a partner x group: percent and fixed-per-deal rewards.
--   lead_commission: one row per qualified lead of L of a partner x group: fixed-per-qualified-lead rewards.
-- Parameters and slots: those of _scope and _costs.
deal_commission as (
    select e.lead_id, e.k_partner_id, e.k_model, e.k_pipeline_id, e.k_source, e.k_period,
        sum(case s.kind when 'percent_revenue' then e.amount * coalesce(tr.eff_rate, s.rate) else s.rate end)
            as commission
    from (
        select {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
            {{k_source}} as k_source, {{k_period}} as k_period, lead_id, partner_id, amount,
            coalesce(closed_date, created_date) as rule_day
        from deal_rows
        where partner_id is not null
    ) e
    join rule_spans s on s.partner_id = e.partner_id and e.rule_day between s.span_from and s.span_to
        and s.kind in ('percent_revenue', 'fixed_per_deal')
    left join tier_rate tr on tr.partner_id = e.partner_id and tr.rule_id = s.rule_id
        and tr.month = cast(date_trunc('month', e.rule_day) as date)
    group by all
),
lead_commission as (
    select e.lead_id, e.k_partner_id, e.k_model, e.k_pipeline_id, e.k_source, e.k_period,
        sum(s.rate) as commission
    from (
        select {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
            {{k_source}} as k_source, {{k_period}} as k_period, lead_id, partner_id, d
        from lead_rows
        where partner_id is not null and is_qualified
    ) e
    join rule_spans s on s.partner_id = e.partner_id and e.d between s.span_from and s.span_to
        and s.kind = 'fixed_per_qualified_lead'
    group by all
)
