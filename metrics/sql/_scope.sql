-- fragment _scope: shared CTEs of the KPI queries (spliced in by `-- include: _scope`).
--   pm:       one row per partner with its current model (null model = 'unassigned').
--   margins:  one row per model with its configured gross margin (null = none).
--   keyed:    one row per lead created in the period, or won deal closed in it (close view), with
--             filter flags (in_period, is_deal, match_who, match_where) and group keys k_*.
-- Parameters: $date_from, $date_to (dates, inclusive), $close_view (bool), $partners (int[]),
--   $models (varchar[]), $pipelines (bigint[]), $sources (varchar[]); empty list = all;
--   $g_partner, $g_model, $g_pipeline, $g_source (bool: group by it), $g_unit ('none'|'week'|'month'|'quarter');
--   $m_account, $m_referral, $m_sales, $m_service, $m_direct, $m_unassigned (margin fractions or null).
pm as (
    select partner_id, name, coalesce(model, 'unassigned') as model
    from partners
),
margins as (
    select model, coalesce(margin, cast($m_account as double)) as margin
    from (values
        ('referral', cast($m_referral as double)),
        ('sales', cast($m_sales as double)),
        ('service', cast($m_service as double)),
        ('direct', cast($m_direct as double)),
        ('unassigned', cast($m_unassigned as double))
    ) t(model, margin)
),
base as (
    select
        f.lead_id, f.partner_id, f.pipeline_id, f.amount, f.is_won, f.is_lost, f.is_qualified,
        f.close_days, f.client_key, f.created_date, f.closed_date, f.has_phone, f.has_email,
        f.loss_reason, f.utm_source, f.source_name,
        case when f.partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end as cur_model,
        f.created_date between $date_from and $date_to as in_period,
        f.is_won and case when $close_view then f.closed_date between $date_from and $date_to
                          else f.created_date between $date_from and $date_to end as is_deal
    from lead_facts f
    left join pm on pm.partner_id = f.partner_id
    where f.created_date between $date_from and $date_to
       or ($close_view and f.is_won and f.closed_date between $date_from and $date_to)
),
keyed as materialized (
    select
        b.*,
        mg.margin,
        coalesce((len($partners) = 0 or list_contains($partners, b.partner_id))
            and (len($models) = 0 or list_contains($models, b.cur_model)), false) as match_who,
        coalesce((len($pipelines) = 0 or list_contains($pipelines, b.pipeline_id))
            and (len($sources) = 0 or list_contains($sources, b.utm_source)
                 or list_contains($sources, b.source_name)), false) as match_where,
        case when $g_partner then b.partner_id end as k_partner_id,
        case when $g_model then b.cur_model end as k_model,
        case when $g_pipeline then b.pipeline_id end as k_pipeline_id,
        case when $g_source then coalesce(b.utm_source, b.source_name) end as k_source,
        case when $g_unit <> 'none' then cast(date_trunc(
            case when $g_unit = 'none' then 'month' else $g_unit end, b.created_date) as date) end as k_lead_period,
        case when $g_unit <> 'none' then cast(date_trunc(
            case when $g_unit = 'none' then 'month' else $g_unit end,
            case when $close_view then b.closed_date else b.created_date end) as date) end as k_deal_period
    from base b
    left join margins mg on mg.model = b.cur_model
)
