-- forecast_stage_history: one row per stage x partner among leads CLOSED (won or lost) in the look-back
-- window that ever stood at that stage (from stage-change events; won/lost stages excluded).
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
-- A closed lead left every stage it stood at, so each one is the "before" side of some event.
visits as (
    select distinct e.lead_id, e.pipeline_before as pipeline_id, e.status_before as status_id
    from raw_lead_status_events e semi join who w on w.lead_id = e.lead_id
    where e.status_before not in (142, 143)
)
select v.pipeline_id, v.status_id, w.partner_id, w.model,
    count(*) as reached, count(*) filter (where w.is_won) as won
from visits v
join who w using (lead_id)
where v.pipeline_id is not null and v.status_id is not null
group by all
