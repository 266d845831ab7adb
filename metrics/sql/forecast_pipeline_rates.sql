-- forecast_pipeline_rates: one row per pipeline: leads CLOSED in the look-back window (won or lost) and
-- how many of them were won — the base win rate every stage estimate is pulled toward.
-- Columns: pipeline_id, closed, won.
-- Parameters: $hist_from, $hist_to (dates, close date window, inclusive); $partners (int[]), $models
--   (varchar[]), $pipelines (bigint[]), $sources (varchar[]) — empty list = all.
with scoped as (
    select f.pipeline_id, f.partner_id, f.is_won,
        case when f.partner_id is null then 'direct' else coalesce(p.model, 'unassigned') end as model
    from lead_facts f
    left join partners p on p.partner_id = f.partner_id
    where (f.is_won or f.is_lost)
      and f.closed_date between $hist_from and $hist_to
      and (len($pipelines) = 0 or list_contains($pipelines, f.pipeline_id))
      and (len($sources) = 0 or list_contains($sources, f.utm_source) or list_contains($sources, f.source_name))
)
select pipeline_id, count(*) as closed, count(*) filter (where is_won) as won
from scoped
where (len($partners) = 0 or list_contains($partners, partner_id))
  and (len($models) = 0 or list_contains($models, model))
group by pipeline_id
