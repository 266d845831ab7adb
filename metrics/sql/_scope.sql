-- fragment _scope: shared CTEs of the KPI queries (spliced in by `-- include: _scope`).
--   pm:        one row per partner: its current model (null = 'unassigned') and gross margin.
--   margins:   one row per model with its gross margin (null = none: income = revenue).
--   lead_rows: one row per lead created in the period matching every filter (L of metrics-spec).
--   lead_days: the counts of those leads (leads, qualified_leads, won_leads) per creation day d x partner x model
--              (x pipeline x source when {{lead_days}} is the detailed table), from data_layer/derived.sql.
--   deal_rows: one row per won deal in scope matching every filter, d = its deal date (creation date in
--              the cohort view, close date in the close view); read from fact_won_deals (data_layer/derived.sql).
-- Group keys are template slots ({{k_partner_id}}, {{k_model}}, {{k_pipeline_id}}, {{k_source}},
-- {{k_period}} over a column d) filled from a fixed whitelist; values are always bound parameters.
-- Parameters: $date_from, $date_to (inclusive dates), those of _where, $m_account, $m_referral, $m_sales,
--   $m_service, $m_direct, $m_unassigned (margin fractions or null).
margins as (
    select model, coalesce(margin, cast($m_account as double)) as margin
    from (values
        ('referral', cast($m_referral as double)), ('sales', cast($m_sales as double)),
        ('service', cast($m_service as double)), ('direct', cast($m_direct as double)),
        ('unassigned', cast($m_unassigned as double))
    ) t(model, margin)
),
pm as (
    select p.partner_id, p.name, coalesce(p.model, 'unassigned') as model, m.margin
    from partners p
    left join margins m on m.model = coalesce(p.model, 'unassigned')
),
lead_rows as not materialized (
    select lead_id, partner_id, model, pipeline_id, utm_source, source_name, created_date as d, amount,
        is_qualified, is_won, is_lost, has_phone, has_email, loss_reason, created_date, closed_date
    from lead_facts
    where created_date between $date_from and $date_to
      -- include: _where
),
lead_days as not materialized (
    select created_date as d, partner_id, model, pipeline_id, utm_source, source_name, leads, qualified_leads,
        won_leads
    from {{lead_days}}
    where created_date between $date_from and $date_to
      -- include: _where
),
deal_rows as (
    select lead_id, partner_id, model, pipeline_id, utm_source, source_name, {{deal_date}} as d,
        amount, close_days, client, client_deals, client_revenue, created_date, closed_date, is_qualified
    from fact_won_deals
    where {{deal_date}} between $date_from and $date_to
      -- include: _where
)
