-- roi_units: one row per group with the inputs of the ROI bootstrap: n units (leads of L and won deals in
-- scope, one unit per lead), fixed costs (ledger share), sums over the contributing units (income x or a
-- commission y not 0) and, for groups with at most $max_exact of them, their x and y as lists: the deals by lead
-- id, then the rewarded leads by partner and creation day. Parameters: those of _scope and _costs, $max_exact
-- (int).
-- Template inputs: as kpis (a unit's period bucket is its deal date when it is a deal in scope, else its creation),
-- and incremental (the deals of pre-existing clients count with no income: the incremental ROI's interval).
{% from "_keys.sql" import k_partner_id, k_model, k_pipeline_id, k_source, k_period, key_cols with context %}
with
{% include "_scope.sql" %}
,
{% include "_costs.sql" %}
,
{% include "_unit_commission.sql" %}
,
deal_units as not materialized (
    -- every won deal in scope (bucketed by its deal date) with its income x and commission y: its deal's rates,
    -- plus its lead reward when it is a qualified lead of L
    select u.sid, u.k_partner_id, u.k_model, u.k_pipeline_id, u.k_source, u.k_period, u.lead_id, u.partner_id,
        -- incremental ROI: a pre-existing client's deal brings no income (its commission still counts)
        {% if incremental is defined and incremental %}case when u.preexisting then 0.0 else {% endif %}
        u.amount * coalesce(case u.model
            when 'referral' then cast($m_referral as double) when 'sales' then cast($m_sales as double)
            when 'service' then cast($m_service as double) when 'direct' then cast($m_direct as double)
            else cast($m_unassigned as double) end, cast($m_account as double), 1.0)
        {% if incremental is defined and incremental %}end{% endif %} as x,
        coalesce(u.amount * dr.pct + dr.fixed, 0.0) + coalesce(case when u.rewarded_lead then lr.fixed end, 0.0) as y
    from (
        select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
            {{ k_source }} as k_source, {{ k_period }} as k_period, lead_id, partner_id, model, amount, preexisting,
            is_qualified and created_date between s_from and s_to as rewarded_lead,
            coalesce(closed_date, created_date) as rule_day, created_date
        from deal_rows
    ) u
    left join day_rates dr on dr.partner_id = u.partner_id and dr.rule_day = u.rule_day and dr.is_deal
    left join day_rates lr on lr.partner_id = u.partner_id and lr.rule_day = u.created_date and not lr.is_deal
),
lead_unit_days as materialized (
    -- each partner's other qualified leads of L (not deals in scope) per group and creation day: how many (c) and
    -- the day's lead reward y, from the day counts (qualified leads less those that are deals in scope), so the
    -- moments of large groups need no lead rows
    select q.sid, q.k_partner_id, q.k_model, q.k_pipeline_id, q.k_source, q.k_period, q.partner_id, q.d, q.c,
        lr.fixed as y
    from (
        select {{ key_cols }}, partner_id, d, sum(c) as c
        from (
            select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model,
                {{ k_pipeline_id }} as k_pipeline_id, {{ k_source }} as k_source, {{ k_period }} as k_period,
                partner_id, d, sum(qualified_leads) as c
            from lead_days
            where partner_id is not null and qualified_leads > 0
            group by all
            union all
            select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model,
                {{ k_pipeline_id }} as k_pipeline_id, {{ k_source }} as k_source, {{ k_period }} as k_period,
                partner_id, d, -count(*)
            from (select * replace (created_date as d) from deal_rows)
            where partner_id is not null and is_qualified and created_date between s_from and s_to
            group by all
        )
        group by all
        having sum(c) <> 0
    ) q
    join day_rates lr on lr.partner_id = q.partner_id and lr.rule_day = q.d and not lr.is_deal
    where lr.fixed <> 0
),
counts as (
    -- units per group: leads of L by creation day, moved to their deal date when that differs (close view),
    -- plus won deals in scope created outside the period
    select {{ key_cols }}, sum(n) as n
    from (
        select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period, sum(leads) as n
        from lead_days
        group by all
        union all
        select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period, count(*)
        from deal_rows
        where case when close_view then closed_date else created_date end <> created_date
        group by all
        union all
        select sid, {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period, -count(*)
        from (select * replace (created_date as d) from deal_rows)
        where case when close_view then closed_date else created_date end <> created_date and created_date between s_from and s_to
        group by all
    )
    group by all
    having sum(n) <> 0
),
deal_contrib as materialized (
    -- only deals in scope and rewarded partner leads can carry income or commission
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, lead_id, partner_id, x, y
    from deal_units
    where x <> 0 or y <> 0
),
agg as (
    select {{ key_cols }}, sum(k) as k, sum(sx) as sx,
        sum(sy) as sy, sum(sxx) as sxx, sum(syy) as syy, sum(sxy) as sxy
    from (
        select {{ key_cols }}, count(*) as k,
            sum(x) as sx, sum(y) as sy, sum(x * x) as sxx, sum(y * y) as syy, sum(x * y) as sxy
        from deal_contrib
        group by all
        union all
        select {{ key_cols }}, sum(c), 0.0, sum(c * y), 0.0,
            sum(c * y * y), 0.0
        from lead_unit_days
        group by all
    )
    group by all
),
exact as materialized (
    -- the groups whose contributing units are few enough to resample one by one
    select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period from agg where k <= $max_exact
),
lead_contrib as (
    -- the rewarded leads of the exact groups one by one: each day's count of them (lead_unit_days), one unit
    -- each with that day's reward; o2 / o3 order them by partner and day after the deals
    select q.sid, q.k_partner_id, q.k_model, q.k_pipeline_id, q.k_source, q.k_period, 1 as o1,
        cast(q.partner_id as bigint) as o2, datediff('day', date '2000-01-01', q.d) as o3, 0.0 as x, q.y
    from lead_unit_days q
    semi join exact e on e.sid = q.sid and e.k_partner_id is not distinct from q.k_partner_id
        and e.k_model is not distinct from q.k_model and e.k_pipeline_id is not distinct from q.k_pipeline_id
        and e.k_source is not distinct from q.k_source and e.k_period is not distinct from q.k_period
    cross join unnest(range(cast(q.c as bigint)))
),
lists as (
    select c.sid, c.k_partner_id, c.k_model, c.k_pipeline_id, c.k_source, c.k_period,
        list(c.x order by c.o1, c.o2, c.o3) as xs, list(c.y order by c.o1, c.o2, c.o3) as ys
    from (
        select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, 0 as o1, lead_id as o2, 0 as o3, x, y
        from deal_contrib
        union all
        select sid, k_partner_id, k_model, k_pipeline_id, k_source, k_period, o1, o2, o3, x, y from lead_contrib
    ) c
    join exact a
        on a.sid = c.sid and a.k_partner_id is not distinct from c.k_partner_id and a.k_model is not distinct from c.k_model
        and a.k_pipeline_id is not distinct from c.k_pipeline_id and a.k_source is not distinct from c.k_source
        and a.k_period is not distinct from c.k_period
    group by all
),
roi_parts as (
    select * from counts
    union all by name
    select * from agg
    union all by name
    select * from lists
    union all by name
    select {{ key_cols }}, sum(amount) as fixed
    from ledger_costs
    group by all
),
roi_rows as (
    select {{ key_cols }},
        coalesce(sum(n), 0) as n, coalesce(sum(k), 0) as k, coalesce(sum(fixed), 0.0) as fixed,
        coalesce(sum(sx), 0.0) as sx, coalesce(sum(sy), 0.0) as sy, coalesce(sum(sxx), 0.0) as sxx,
        coalesce(sum(syy), 0.0) as syy, coalesce(sum(sxy), 0.0) as sxy,
        first(xs) filter (where xs is not null) as xs,
        first(ys) filter (where ys is not null) as ys
    from roi_parts
    group by all
)
-- named and in presentation order (as kpis.sql's rows): period, partner by name (direct last), model, pipeline,
-- source; partner_model is the partner's current model ('direct' for direct leads)
select r.*, pm.name as k_partner_name, p.name as k_pipeline_name,
    case when r.k_partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end as partner_model
from roi_rows r
left join pm on pm.partner_id = r.k_partner_id
left join raw_pipelines p on p.id = r.k_pipeline_id
order by r.sid, r.k_period nulls last, r.k_partner_id is null, coalesce(lower(pm.name), ''),
    case r.k_model when 'referral' then 0 when 'sales' then 1 when 'service' then 2 when 'direct' then 3
        when 'unassigned' then 4 end nulls last,
    r.k_pipeline_id nulls last, r.k_source nulls last, r.k_partner_id
