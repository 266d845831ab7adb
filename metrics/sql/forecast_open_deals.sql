-- forecast_open_deals: one row per OPEN lead (neither won nor lost) created in the period that matches
-- the filters. Columns: lead_id, pipeline_id, status_id, stage (stage name), stage_sort, partner_id,
--   partner (name), model (current model of the partner; direct when none), amount (0 when not set).
-- Parameters: $date_from, $date_to (creation dates, inclusive); $partners (int[]), $models (varchar[]),
--   $pipelines (bigint[]), $sources (varchar[]) — empty list = all.
with scoped as (
    select f.lead_id, f.pipeline_id, f.status_id, f.partner_id, p.name as partner, f.amount,
        case when f.partner_id is null then 'direct' else coalesce(p.model, 'unassigned') end as model
    from lead_facts f
    left join partners p on p.partner_id = f.partner_id
    where not f.is_won and not f.is_lost
      and f.created_date between $date_from and $date_to
      and (len($pipelines) = 0 or list_contains($pipelines, f.pipeline_id))
      and (len($sources) = 0 or list_contains($sources, f.utm_source) or list_contains($sources, f.source_name))
)
select s.lead_id, s.pipeline_id, s.status_id, coalesce(st.name, cast(s.status_id as varchar)) as stage,
    st.sort as stage_sort, s.partner_id, s.partner, s.model, coalesce(s.amount, 0.0) as amount
from scoped s
left join stg_statuses st on st.pipeline_id = s.pipeline_id and st.status_id = s.status_id
where (len($partners) = 0 or list_contains($partners, s.partner_id))
  and (len($models) = 0 or list_contains($models, s.model))
order by s.pipeline_id, st.sort, s.lead_id
