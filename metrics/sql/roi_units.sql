-- roi_units: one row per group with the inputs of the ROI bootstrap: n (units: leads of L plus won deals
-- in scope created outside the period), fixed costs (ledger share), and the contributing units (leads or
-- deals with income x > 0 or a commission y > 0) as sums and as lists ordered by lead id.
-- Parameters: those of _scope and _costs. Slots: as kpis.
with
-- include: _scope
,
-- include: _costs
,
-- include: _unit_commission
,
units as (
    select k_partner_id, k_model, k_pipeline_id, k_source, k_period, lead_id, sum(x) as x, sum(y) as y
    from (
        select {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
            {{k_source}} as k_source, {{k_period}} as k_period, lead_id,
            amount * coalesce(case model when 'referral' then cast($m_referral as double)
                when 'sales' then cast($m_sales as double) when 'service' then cast($m_service as double)
                when 'direct' then cast($m_direct as double) else cast($m_unassigned as double) end,
                cast($m_account as double), 1.0) as x,
            0.0 as y
        from deal_rows
        union all
        select k_partner_id, k_model, k_pipeline_id, k_source, k_period, lead_id, 0.0, commission
        from deal_commission
        union all
        select k_partner_id, k_model, k_pipeline_id, k_source, k_period, lead_id, 0.0, commission
        from lead_commission
    )
    group by all
),
parts as (
    select k_partner_id, k_model, k_pipeline_id, k_source, k_period,
        count(*) filter (where x <> 0 or y <> 0) as k,
        sum(x) as sx, sum(y) as sy, sum(x * x) as sxx, sum(y * y) as syy, sum(x * y) as sxy,
        list(x order by lead_id) filter (where x <> 0 or y <> 0) as xs,
        list(y order by lead_id) filter (where x <> 0 or y <> 0) as ys
    from units
    group by all
    union all by name
    select {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, count(*) as n
    from lead_rows
    group by all
    union all by name
    select {{k_partner_id}} as k_partner_id, {{k_model}} as k_model, {{k_pipeline_id}} as k_pipeline_id,
        {{k_source}} as k_source, {{k_period}} as k_period, count(*) as n
    from deal_rows
    where created_date not between $date_from and $date_to
    group by all
    union all by name
    select k_partner_id, k_model, k_pipeline_id, k_source, k_period, sum(amount) as fixed
    from ledger_costs
    group by all
)
select k_partner_id, k_model, k_pipeline_id, k_source, k_period,
    coalesce(sum(n), 0) as n, coalesce(sum(k), 0) as k, coalesce(sum(fixed), 0.0) as fixed,
    coalesce(sum(sx), 0.0) as sx, coalesce(sum(sy), 0.0) as sy, coalesce(sum(sxx), 0.0) as sxx,
    coalesce(sum(syy), 0.0) as syy, coalesce(sum(sxy), 0.0) as sxy,
    coalesce(first(xs) filter (where xs is not null), []) as xs,
    coalesce(first(ys) filter (where ys is not null), []) as ys
from parts
group by all
