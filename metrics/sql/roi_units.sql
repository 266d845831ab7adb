-- roi_units: one row per group with the inputs of the ROI bootstrap: n units (leads of L and won deals in
-- scope, one unit per lead), fixed costs (ledger share), sums over the contributing units (income x or a
-- commission y not 0) and, for groups with at most $max_exact of them, their x and y as lists ordered by lead
-- id. Parameters: those of _scope and _costs, $max_exact (int).
-- Slots: as kpis (a unit's period bucket is its deal date when it is a deal in scope, else its creation).
with
-- include: _scope
,
-- include: _costs
,
-- include: _unit_commission
,
unit_rows as not materialized (
    select {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, lead_id, partner_id, model, amount, in_deals,
        in_leads and is_qualified as rewarded_lead, rule_day, created_date
    from (
        -- leads of L, plus (close view) won deals in scope created outside the period: two pushed-down scans
        select lead_id, partner_id, model, amount, created_date, coalesce(closed_date, created_date) as rule_day,
            is_won and {{deal_date}} between $date_from and $date_to as in_deals, true as in_leads, is_qualified,
            case when is_won and {{deal_date}} between $date_from and $date_to then {{deal_date}}
                 else created_date end as d,
            pipeline_id, utm_source, source_name
        from lead_facts
        where created_date between $date_from and $date_to
          -- include: _where
        union all
        select lead_id, partner_id, model, amount, created_date, coalesce(closed_date, created_date),
            true, false, is_qualified, {{deal_date}}, pipeline_id, utm_source, source_name
        from lead_facts
        where is_won and {{deal_date}} between $date_from and $date_to
          and not (created_date between $date_from and $date_to)
          -- include: _where
    )
),
counts as (
    select k_partner_id, k_model, k_pipeline_id, k_source, k_period, count(*) as n
    from unit_rows
    group by all
),
contrib as materialized (
    -- only deals in scope and rewarded partner leads can carry income or commission
    select * from (
        select u.k_partner_id, u.k_model, u.k_pipeline_id, u.k_source, u.k_period, u.lead_id,
            case when u.in_deals then u.amount * coalesce(case u.model
                when 'referral' then cast($m_referral as double) when 'sales' then cast($m_sales as double)
                when 'service' then cast($m_service as double) when 'direct' then cast($m_direct as double)
                else cast($m_unassigned as double) end, cast($m_account as double), 1.0) else 0.0 end as x,
            coalesce(case when u.in_deals then u.amount * dr.pct + dr.fixed end, 0.0)
                + coalesce(case when u.rewarded_lead then lr.fixed end, 0.0) as y
        from (select * from unit_rows where in_deals or (rewarded_lead and partner_id is not null)) u
        left join day_rates dr on dr.partner_id = u.partner_id and dr.rule_day = u.rule_day and dr.is_deal
        left join day_rates lr on lr.partner_id = u.partner_id and lr.rule_day = u.created_date
            and not lr.is_deal
    )
    where x <> 0 or y <> 0
),
agg as (
    select k_partner_id, k_model, k_pipeline_id, k_source, k_period, count(*) as k,
        sum(x) as sx, sum(y) as sy, sum(x * x) as sxx, sum(y * y) as syy, sum(x * y) as sxy
    from contrib
    group by all
),
lists as (
    select c.k_partner_id, c.k_model, c.k_pipeline_id, c.k_source, c.k_period,
        list(c.x order by c.lead_id) as xs, list(c.y order by c.lead_id) as ys
    from contrib c
    join (select * from agg where k <= $max_exact) a
        on a.k_partner_id is not distinct from c.k_partner_id and a.k_model is not distinct from c.k_model
        and a.k_pipeline_id is not distinct from c.k_pipeline_id and a.k_source is not distinct from c.k_source
        and a.k_period is not distinct from c.k_period
    group by all
),
parts as (
    select * from counts
    union all by name
    select * from agg
    union all by name
    select * from lists
    union all by name
    select k_partner_id, k_model, k_pipeline_id, k_source, k_period, sum(amount) as fixed
    from ledger_costs
    group by all
)
select k_partner_id, k_model, k_pipeline_id, k_source, k_period,
    coalesce(sum(n), 0) as n, coalesce(sum(k), 0) as k, coalesce(sum(fixed), 0.0) as fixed,
    coalesce(sum(sx), 0.0) as sx, coalesce(sum(sy), 0.0) as sy, coalesce(sum(sxx), 0.0) as sxx,
    coalesce(sum(syy), 0.0) as syy, coalesce(sum(sxy), 0.0) as sxy,
    first(xs) filter (where xs is not null) as xs,
    first(ys) filter (where ys is not null) as ys
from parts
group by all
