-- funnel: one row per pipeline x stage (every stage but lost, by sort) with the leads of L in that pipeline
-- that reached it (their furthest stage, current or in the stage history, is this one or later), the share of
-- the pipeline's leads and the share of the previous stage's. Parameters: $date_from, $date_to, those of _where.
-- Template input: by_lead (written as a constant): false reads fact_stage_days (leads per day, partner, model, pipeline and furthest
-- stage); true, which a source filter needs, reads the leads of lead_facts one by one with their furthest stage.
with
lead_stages as materialized (
    -- leads of L per pipeline and furthest stage sort (fact_lead_stage of data_layer/derived.sql: current status
    -- and stage history; null when neither is a known stage)
    select pipeline_id, max_sort, sum(leads) as n
    from (
        select created_date, partner_id, model, pipeline_id, utm_source, source_name, max_sort, leads
        from fact_stage_days
        where not {{ "true" if by_lead else "false" }}
        union all
        select l.created_date, l.partner_id, l.model, l.pipeline_id, l.utm_source, l.source_name, s.max_sort, 1
        from lead_facts l
        left join fact_lead_stage s on s.lead_id = l.lead_id
        where {{ "true" if by_lead else "false" }}
    )
    where created_date between $date_from and $date_to
      {% include "_where.sql" %}
    group by all
),
stages as (
    select pipeline_id, status_id, name, sort
    from raw_statuses
    where status_id <> 143 and pipeline_id in (select pipeline_id from lead_stages)
),
histogram as (
    -- leads per pipeline and furthest sort; a lead with no known stage counts at the pipeline's first stage
    select f.pipeline_id, coalesce(f.max_sort, m.first_sort) as max_sort, sum(f.n) as n
    from lead_stages f
    join (select pipeline_id, min(sort) as first_sort from stages group by pipeline_id) m
        on m.pipeline_id = f.pipeline_id
    group by all
),
reached as (
    select s.pipeline_id, s.status_id, s.name, s.sort,
        coalesce(sum(h.n), 0) as reached,
        (select sum(n) from histogram t where t.pipeline_id = s.pipeline_id) as leads
    from stages s
    left join histogram h on h.pipeline_id = s.pipeline_id and h.max_sort >= s.sort
    group by all
)
select r.pipeline_id, p.name as pipeline, r.status_id, r.name as stage, r.sort,
    r.status_id = 142 as is_won_stage, r.reached, r.leads,
    r.reached / nullif(r.leads, 0) as share,
    r.reached / nullif(lag(r.reached) over (partition by r.pipeline_id order by r.sort), 0) as step_share
from reached r
left join raw_pipelines p on p.id = r.pipeline_id
order by p.sort nulls last, r.pipeline_id, r.sort
