-- fragment _costs: shared cost CTEs (spliced in after _scope by `-- include: _costs`).
--   ledger_costs: one row per ledger row x period bucket x pipeline/source share, with the share of the
--                 month's amount for the days of the period it covers (amount / days in month x days covered).
--   commissions:  one row per won deal or qualified lead in scope x commission rule applied, with its amount.
-- Reads the registered relations m_ledger(partner_id, month, category, amount) and
-- m_rules(rule_id, model, partner_id, kind, rate, tiers, valid_from, valid_to). Parameters: those of _scope.
cal_buckets as (
    -- one row per calendar month x period bucket: the days of the period it holds
    select
        cast(date_trunc('month', d) as date) as month,
        case when $g_unit <> 'none' then cast(date_trunc(
            case when $g_unit = 'none' then 'month' else $g_unit end, d) as date) end as k_period,
        count(*) as days
    from range(cast($date_from as timestamp), cast($date_to as timestamp) + interval 1 day, interval 1 day) t(d)
    group by all
),
split_on as (
    select ($g_pipeline or $g_source) as grouping, (len($pipelines) > 0 or len($sources) > 0) as filtering
),
split as (
    -- a partner's ledger costs follow its period leads across pipelines / sources (share of its leads)
    select s.*
    from (
        select partner_id, k_pipeline_id, k_source,
            count(*) filter (where match_where) / sum(count(*)) over (partition by partner_id) as w
        from keyed
        where in_period and match_who and partner_id is not null
          and ((select grouping from split_on) or (select filtering from split_on))
        group by partner_id, k_pipeline_id, k_source
    ) s
    where s.w > 0
),
ledger_costs as (
    select
        case when $g_partner then l.partner_id end as k_partner_id,
        case when $g_model then coalesce(pm.model, 'unassigned') end as k_model,
        s.k_pipeline_id, s.k_source, cb.k_period,
        l.category,
        coalesce(mg.margin, cast($m_account as double)) is not null as has_margin,
        cast(l.amount as double) * cb.days / dayofmonth(last_day(cb.month))
            * case when s.partner_id is not null then s.w
                   when (select filtering from split_on) then 0.0
                   else 1.0 end as amount
    from m_ledger l
    join cal_buckets cb on cb.month = cast(date_trunc('month', l.month) as date)
    left join pm on pm.partner_id = l.partner_id
    left join margins mg on mg.model = coalesce(pm.model, 'unassigned')
    left join split s on s.partner_id = l.partner_id
    where coalesce((len($partners) = 0 or list_contains($partners, l.partner_id))
        and (len($models) = 0 or list_contains($models, coalesce(pm.model, 'unassigned'))), false)
),
rules as (
    select rule_id, model, partner_id, kind, rate, tiers,
        coalesce(valid_from, date '0001-01-01') as valid_from,
        coalesce(valid_to, date '9999-12-31') as valid_to
    from m_rules
),
tier_bands as (
    -- progressive monthly bands of tiered percent rules: [lo, hi) taxed at rate; the top band is open
    select rule_id, rate,
        coalesce(lag(up_to) over (partition by rule_id order by up_to nulls last), 0) as lo,
        case when row_number() over (partition by rule_id order by up_to desc nulls first) = 1
             then null else up_to end as hi
    from (
        select rule_id, unnest(from_json(tiers, '[{"up_to": "DOUBLE", "rate": "DOUBLE"}]'), recursive := true)
        from rules
        where kind = 'percent_revenue' and nullif(trim(tiers), '') is not null
    )
),
ev_scope as (
    -- commission events in scope: won deals dated by close, qualified leads dated by creation
    select lead_id, partner_id, cur_model, 'deal' as ev, coalesce(closed_date, created_date) as d, amount,
        k_partner_id, k_model, k_pipeline_id, k_source, k_deal_period as k_period
    from keyed
    where is_deal and match_who and match_where and partner_id is not null
    union all
    select lead_id, partner_id, cur_model, 'lead', created_date, amount,
        k_partner_id, k_model, k_pipeline_id, k_source, k_lead_period
    from keyed
    where in_period and is_qualified and match_who and match_where and partner_id is not null
),
tier_months as (
    select distinct partner_id, cast(date_trunc('month', d) as date) as month
    from ev_scope
    where ev = 'deal' and exists (select 1 from tier_bands)
),
ev as (
    select *, true as in_scope from ev_scope
    union all
    -- every won deal of the same partners and months (any filter): the base of monthly tiers
    select f.lead_id, f.partner_id, coalesce(pm.model, 'unassigned'), 'deal',
        coalesce(f.closed_date, f.created_date), f.amount, null, null, null, null, null, false
    from lead_facts f
    join tier_months tm on tm.partner_id = f.partner_id
        and tm.month = cast(date_trunc('month', coalesce(f.closed_date, f.created_date)) as date)
    left join pm on pm.partner_id = f.partner_id
    where f.is_won
),
cand as (
    select e.*, r.rule_id, r.kind, r.rate, true as own
    from ev e join rules r on r.partner_id = e.partner_id and e.d between r.valid_from and r.valid_to
    union all
    select e.*, r.rule_id, r.kind, r.rate, false as own
    from ev e join rules r on r.model = e.cur_model and r.partner_id is null
        and e.d between r.valid_from and r.valid_to
),
applied as (
    -- a partner's own rules in force on the date replace its model's rules
    select *
    from cand
    qualify own = max(own) over (partition by lead_id, ev, in_scope)
),
tier_rate as (
    select t.partner_id, t.rule_id, t.month, t.base,
        sum(b.rate * greatest(0.0, least(t.base, coalesce(b.hi, t.base)) - b.lo)) / nullif(t.base, 0) as eff_rate
    from (
        select partner_id, rule_id, cast(date_trunc('month', d) as date) as month, sum(amount) as base
        from applied
        where not in_scope and kind = 'percent_revenue'
        group by all
    ) t
    join tier_bands b on b.rule_id = t.rule_id
    group by t.partner_id, t.rule_id, t.month, t.base
),
commissions as (
    select
        a.k_partner_id, a.k_model, a.k_pipeline_id, a.k_source, a.k_period,
        a.lead_id, a.partner_id, a.cur_model, a.rule_id, a.kind, a.ev, a.d, a.amount as deal_amount, a.rate,
        tr.eff_rate, tr.base as month_base,
        coalesce(mg.margin, cast($m_account as double)) is not null as has_margin,
        case a.kind when 'percent_revenue' then a.amount * coalesce(tr.eff_rate, a.rate) else a.rate end as amount
    from applied a
    left join tier_rate tr on tr.partner_id = a.partner_id and tr.rule_id = a.rule_id
        and tr.month = cast(date_trunc('month', a.d) as date)
    left join margins mg on mg.model = a.cur_model
    where a.in_scope
      and ((a.ev = 'deal' and a.kind in ('percent_revenue', 'fixed_per_deal'))
        or (a.ev = 'lead' and a.kind = 'fixed_per_qualified_lead'))
)
