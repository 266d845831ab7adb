-- quality: one row per group of leads of L with the mean lead-quality score and its components: shares with
-- a phone, with an e-mail, qualified, and the junk share (lost with a reason from the junk list).
-- Parameters: $date_from, $date_to, those of _where, $w_phone, $w_email, $w_qualified (score weights),
-- $junk (normalised junk reasons), $min_leads. Template inputs: keys and period (_keys.sql; k_period
-- over creation date) and by_lead (true: a pipeline or source filter or grouping reads the leads one by one; false: the day counts
-- of fact_lead_days_partner and fact_lost_days, data_layer/derived.sql, which have no pipeline or source).
{% from "_keys.sql" import k_partner_id, k_model, k_pipeline_id, k_source, k_period, model_from_partner with context %}
with
junk_names as (
    -- loss reasons (as the CRM spells them) that the junk list names, compared normalised (ё = е, any case)
    select name from raw_loss_reasons where list_contains($junk, norm_name(name))
),
lead_set as (
    select partner_id, model, pipeline_id, utm_source, source_name, created_date as d, 1 as leads,
        cast(has_phone as integer) as with_phone, cast(has_email as integer) as with_email,
        cast(is_qualified as integer) as qualified,
        cast(is_lost and loss_reason in (select name from junk_names) as integer) as junk
    from lead_facts
    where {{ "true" if by_lead else "false" }} and created_date between $date_from and $date_to
      {% include "_where.sql" %}
    union all
    select partner_id, model, pipeline_id, utm_source, source_name, created_date, leads, with_phone, with_email,
        qualified_leads, 0
    from fact_lead_days_partner
    where not {{ "true" if by_lead else "false" }} and created_date between $date_from and $date_to
      {% include "_where.sql" %}
    union all
    select partner_id, model, pipeline_id, utm_source, source_name, created_date, 0, 0, 0, 0, leads
    from fact_lost_days
    where not {{ "true" if by_lead else "false" }} and created_date between $date_from and $date_to
      and loss_reason in (select name from junk_names)
      {% include "_where.sql" %}
),
grouped as (
    -- shares as exact ratios of counts (what the mean of 0/1 flags gives)
    select {{ k_partner_id }} as k_partner_id, {{ k_model }} as k_model, {{ k_pipeline_id }} as k_pipeline_id,
        {{ k_source }} as k_source, {{ k_period }} as k_period,
        coalesce(sum(leads), 0) as leads,  -- no grouping and no lead: one row of 0 (as count(*) gives)
        sum(with_phone) / nullif(sum(leads), 0) as phone_share,
        sum(with_email) / nullif(sum(leads), 0) as email_share,
        sum(qualified) / nullif(sum(leads), 0) as qualified_share,
        sum(junk) / nullif(sum(leads), 0) as junk_share
    from lead_set
    group by all
)
select g.k_partner_id, pm.name as k_partner_name,
    case when {{ model_from_partner }} then case when g.k_partner_id is null then 'direct' else coalesce(pm.model, 'unassigned') end else g.k_model end as k_model,
    g.k_pipeline_id, p.name as k_pipeline_name,
    g.k_source, g.k_period, g.leads,
    $w_phone * g.phone_share + $w_email * g.email_share + $w_qualified * g.qualified_share as quality_score,
    g.phone_share, g.email_share, g.qualified_share, g.junk_share,
    g.qualified_share as lead_to_qualified,
    g.leads < $min_leads as too_few
from grouped g
left join partners pm on pm.partner_id = g.k_partner_id
left join raw_pipelines p on p.id = g.k_pipeline_id
