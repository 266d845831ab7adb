-- forecast_stage_history: one row per stage x partner among leads CLOSED (won or lost) in the look-back
-- window that ever stood at that stage (stage-change events, before or after; won/lost stages excluded).
-- Columns: pipeline_id, status_id, partner_id (null = direct), model (current model of the partner),
--   reached (leads that stood at the stage), won (of them, won).
-- Parameters: $hist_from, $hist_to (dates, close date window, inclusive); $partners (int[]), $models
--   (varchar[]), $pipelines (bigint[]), $sources (varchar[]) — empty list = all.
with scoped as (
    select f.lead_id, f.partner_id, f.is_won,
        case when f.partner_id is null then 'direct' else coalesce(p.model, 'unassigned') end as model
    from lead_facts f
    left join partners p on p.partner_id = f.partner_id
    where (f.is_won or f.is_lost)
      and f.closed_date between $hist_from and $hist_to
      and (len($pipelines) = 0 or list_contains($pipelines, f.pipeline_id))
      and (len($sources) = 0 or list_contains($sources, f.utm_source) or list_contains($sources, f.source_name))
),
who as (
    select * from scoped
    where (len($partners) = 0 or list_contains($partners, partner_id))
      and (len($models) = 0 or list_contains($models, model))
),
-- events of those leads only; won/lost stages dropped before the de-duplication (it is the costly step)
ev as (
    select e.lead_id, e.pipeline_before, e.status_before, e.pipeline_after, e.status_after
    from raw_lead_status_events e semi join who w on w.lead_id = e.lead_id
),
visits as (
    select distinct lead_id, pipeline_id, status_id from (
        select lead_id, pipeline_before as pipeline_id, status_before as status_id from ev
        where status_before not in (142, 143)
        union all
        select lead_id, pipeline_after, status_after from ev
        where status_after not in (142, 143)
    )
)
select v.pipeline_id, v.status_id, w.partner_id, w.model,
    count(*) as reached, count(*) filter (where w.is_won) as won
from visits v
join who w using (lead_id)
where v.pipeline_id is not null and v.status_id is not null
group by all
