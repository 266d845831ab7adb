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
    -- the units that can carry income or a commission: every won deal in scope (bucketed by its deal date; its
    -- lead reward counts when it is a lead of L), and each partner's other qualified leads of L
    select sid, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, lead_id, partner_id, model, amount, true as in_deals,
        is_qualified and created_date between s_from and s_to as rewarded_lead,
        coalesce(closed_date, created_date) as rule_day, created_date
    from deal_rows
    union all
    select sid, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, lead_id, partner_id, model, amount, false, true, d, d
    from lead_rows
    where partner_id is not null and is_qualified
      and not (is_won and {{deal_date}} between s_from and s_to)
),
counts as (
    -- units per group: leads of L by creation day, moved to their deal date when that differs (close view),
    -- plus won deals in scope created outside the period
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, sum(n) as n
    from (
        select sid, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, sum(leads) as n
        from lead_days
        group by all
        union all
        select sid, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, count(*)
        from deal_rows
        where {{deal_date}} <> created_date
        group by all
        union all
        select sid, {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, -count(*)
        from (select * replace (created_date as d) from deal_rows)
        where {{deal_date}} <> created_date and created_date between s_from and s_to
        group by all
    )
    group by all
    having sum(n) <> 0
),
contrib as materialized (
    -- only deals in scope and rewarded partner leads can carry income or commission
    select * from (
        select u.sid, u.k_partner_id, u.k_model, u.k_pipeline_id, u.k_source, u.k_period, u.lead_id,
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
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, count(*) as k,
        sum(x) as sx, sum(y) as sy, sum(x * x) as sxx, sum(y * y) as syy, sum(x * y) as sxy
    from contrib
    group by all
),
lists as (
    select c.sid, c.k_partner_id, c.k_model, c.k_pipeline_id, c.k_source, c.k_period,
        list(c.x order by c.lead_id) as xs, list(c.y order by c.lead_id) as ys
    from contrib c
    join (select * from agg where k <= $max_exact) a
        on a.sid = c.sid and a.k_partner_id is not distinct from c.k_partner_id and a.k_model is not distinct from c.k_model
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
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, sum(amount) as fixed
    from ledger_costs
    group by all
)
select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period,
    coalesce(sum(n), 0) as n, coalesce(sum(k), 0) as k, coalesce(sum(fixed), 0.0) as fixed,
    coalesce(sum(sx), 0.0) as sx, coalesce(sum(sy), 0.0) as sy, coalesce(sum(sxx), 0.0) as sxx,
    coalesce(sum(syy), 0.0) as syy, coalesce(sum(sxy), 0.0) as sxy,
    first(xs) filter (where xs is not null) as xs,
    first(ys) filter (where ys is not null) as ys
from parts
group by all
