-- funnel: one row per pipeline x stage (every stage but lost, by sort) with the leads of L in that pipeline
-- that reached it (their furthest stage, current or in the stage history, is this one or later).
-- Parameters: $date_from, $date_to, those of _where.
with
lead_set as (
    select lead_id, pipeline_id, status_id
    from lead_facts
    where created_date between $date_from and $date_to
      -- include: _where
),
visited as (
    select lead_id, pipeline_id, status_id from lead_set
    union all
    select e.lead_id, e.pipeline_after, e.status_after
    from raw_lead_status_events e join lead_set l on l.lead_id = e.lead_id and l.pipeline_id = e.pipeline_after
    union all
    select e.lead_id, e.pipeline_before, e.status_before
    from raw_lead_status_events e join lead_set l on l.lead_id = e.lead_id and l.pipeline_id = e.pipeline_before
),
stages as (
    select pipeline_id, status_id, name, sort, type
    from raw_statuses
    where status_id <> 143 and pipeline_id in (select pipeline_id from lead_set)
),
furthest as (
    select l.lead_id, l.pipeline_id,
        coalesce(max(s.sort), (select min(sort) from stages m where m.pipeline_id = l.pipeline_id)) as max_sort
    from lead_set l
    left join visited v on v.lead_id = l.lead_id and v.pipeline_id = l.pipeline_id
    left join stages s on s.pipeline_id = v.pipeline_id and s.status_id = v.status_id
    group by l.lead_id, l.pipeline_id
),
reached as (
    select s.pipeline_id, s.status_id, s.name, s.sort, s.type,
        count(f.lead_id) as reached,
        (select count(*) from lead_set l where l.pipeline_id = s.pipeline_id) as leads
    from stages s
    left join furthest f on f.pipeline_id = s.pipeline_id and f.max_sort >= s.sort
    group by all
)
select r.pipeline_id, p.name as pipeline, r.status_id, r.name as stage, r.sort,
    r.status_id = 142 as is_won_stage, r.reached, r.leads,
    r.reached / nullif(r.leads, 0) as share,
    r.reached / nullif(lag(r.reached) over (partition by r.pipeline_id order by r.sort), 0) as step_share
from reached r
left join raw_pipelines p on p.id = r.pipeline_id
order by p.sort nulls last, r.pipeline_id, r.sort
