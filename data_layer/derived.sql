-- Migrations 0004-0008 and 0010 (the fact tables grow columns or tables), and what store.rebuild_facts runs after every rebuild of lead_facts:
-- compact tables derived from lead_facts only (no user input, no parameters) that the metric queries read
-- instead of scanning every lead. Native tables, sorted by date, so DuckDB prunes row groups by period.
--   fact_won_deals:    one row per won lead with what the deal metrics and deal lists read, its client (hash of
--                      client_key) and that client's all-time won deals and revenue (the lifetime behind LTV), and
--                      whether it is pre-existing (fact_preexisting, below).
--   fact_partner_days: one row per partner x day with the revenue of its won deals dated that day (close
--                      date, else creation date): the base of monthly commission tiers.
--   fact_lead_days:    one row per creation day x partner x model x pipeline x source with the counts of
--                      leads, qualified leads and won leads (the lead side of the KPIs, 5-50x fewer rows) and of
--                      leads with a phone / an e-mail (lead quality).
--   fact_lead_days_partner: the same per creation day x partner x model only (pipeline and source null), for
--                      queries that neither filter nor group by pipeline or source (70x fewer rows at 1M).
-- fact_preexisting (migration 0010): one row per pre-existing partner lead (metrics-spec "Credit and
-- incrementality"): its client -- a contact or company of the lead, or a contact with the same normalised phone or
-- e-mail, or a company with the same INN (raw_client_keys) -- had, within `preexisting_window_days` (setting,
-- default 180) before the lead was created, another lead that was open at that moment, won, or direct. With the
-- earlier lead that makes it so (the latest such one) and how the client matched. One pass of a window function
-- per client key: a lead "holds" a later lead of its client for ever when won or direct, else while it is open.
create or replace table fact_preexisting as
with win as (
    select 86400 * coalesce((select case when try_cast(value as integer) >= 1 then try_cast(value as integer) end
                              from settings where key = 'preexisting_window_days'), 180) as seconds
),
lead_keys as (
    -- every key of each lead (a lead may list one twice: harmless, the window below only compares earlier leads)
    select lead_id, 'contact' as kind, hash('contact', contact_id) as k
    from raw_lead_contacts where contact_id is not null
    union all
    select lead_id, 'company', hash('company', company_id) from raw_lead_companies where company_id is not null
    union all
    select c.lead_id, ck.kind, hash(ck.kind, ck.value)
    from raw_lead_contacts c join raw_client_keys ck on ck.entity_type = 'contact' and ck.entity_id = c.contact_id
    union all
    select c.lead_id, ck.kind, hash(ck.kind, ck.value)
    from raw_lead_companies c join raw_client_keys ck on ck.entity_type = 'company' and ck.entity_id = c.company_id
),
shared as (
    -- only a key two leads share can make a lead pre-existing: most clients have one lead, so the window below
    -- sorts a small part of the keys
    select k from lead_keys group by k having count(*) > 1
),
keyed as materialized (
    select k.k, k.kind, l.lead_id, l.created_at, l.partner_id,
        case when l.is_won or l.partner_id is null then 9223372036854775807
             else coalesce(l.closed_at, 9223372036854775807) end as holds_until
    from lead_keys k join lead_facts l on l.lead_id = k.lead_id
    where l.created_at is not null and k.k in (select k from shared)
),
held as (
    select k, kind, lead_id, created_at, partner_id,
        max(holds_until) over (partition by k order by created_at
                               range between (select seconds from win) preceding and 1 preceding) as best
    from keyed
),
flagged as (
    select k, kind, lead_id, created_at, partner_id from held
    where partner_id is not null and best > created_at
),
earlier as (
    -- the latest earlier lead; when it shares several keys, the plainest match names it (contact, company, INN,
    -- phone, e-mail)
    select f.lead_id, arg_max(e.lead_id, (e.created_at, e.lead_id)) as earlier_lead_id,
        max(e.created_at) as earlier_created_at,
        arg_max(f.kind, (e.created_at, e.lead_id, list_position(['email', 'phone', 'inn', 'company', 'contact'],
                                                                 f.kind))) as match_kind
    from flagged f
    join keyed e on e.k = f.k and e.created_at < f.created_at
        and e.created_at >= f.created_at - (select seconds from win) and e.holds_until > f.created_at
    group by f.lead_id
)
select e.lead_id, l.partner_id, l.created_at, l.created_date, e.earlier_lead_id, e.earlier_created_at,
    p.created_date as earlier_created_date, e.match_kind
from earlier e
join lead_facts l on l.lead_id = e.lead_id
join lead_facts p on p.lead_id = e.earlier_lead_id
order by l.created_date, e.lead_id;

create or replace table fact_won_deals as
select lead_id, partner_id, model, pipeline_id, utm_source, source_name, created_date, closed_date, amount,
    close_days, is_qualified, cast(hash(client_key) >> 1 as bigint) as client,
    count(*) over (partition by client_key) as client_deals,
    sum(amount) over (partition by client_key) as client_revenue,
    lead_name, status_id, is_lost, loss_reason, client_key, partner_name,
    lead_id in (select lead_id from fact_preexisting) as preexisting
from lead_facts
where is_won
order by created_date, lead_id;

create or replace table fact_partner_days as
select partner_id, coalesce(closed_date, created_date) as rule_day, sum(amount) as revenue
from lead_facts
where is_won and partner_id is not null
group by all
order by rule_day, partner_id;

-- fact_revenue_days: the won deals' revenue per deal date (creation for the cohort view, close for the close view)
-- and pipeline: the denominator of revenue shares when partner, model or source filters narrow the deals.
create or replace table fact_revenue_days as
select false as close_view, created_date as d, pipeline_id, sum(amount) as revenue
from fact_won_deals
group by all
union all
select true, closed_date, pipeline_id, sum(amount)
from fact_won_deals
where closed_date is not null
group by all
order by d, close_view;

create or replace table fact_lead_days as
select created_date, partner_id, model, pipeline_id, utm_source, source_name,
    count(*) as leads, count(*) filter (where is_qualified) as qualified_leads,
    count(*) filter (where is_won) as won_leads, count(*) filter (where has_phone) as with_phone,
    count(*) filter (where has_email) as with_email
from lead_facts
group by all
order by created_date, partner_id;

create or replace table fact_lead_days_partner as
select created_date, partner_id, model, cast(null as bigint) as pipeline_id, cast(null as varchar) as utm_source,
    cast(null as varchar) as source_name, sum(leads) :: bigint as leads,
    sum(qualified_leads) :: bigint as qualified_leads, sum(won_leads) :: bigint as won_leads,
    sum(with_phone) :: bigint as with_phone, sum(with_email) :: bigint as with_email
from fact_lead_days
group by all
order by created_date, partner_id;

-- fact_lost_days: lost leads per creation day x partner x model x loss reason (pipeline and source null, like
-- fact_lead_days_partner): the junk share of lead quality, whichever reasons the settings call junk.
create or replace table fact_lost_days as
select created_date, partner_id, model, cast(null as bigint) as pipeline_id, cast(null as varchar) as utm_source,
    cast(null as varchar) as source_name, loss_reason, count(*) as leads
from lead_facts
where is_lost and loss_reason is not null
group by all
order by created_date, partner_id;

-- fact_lost_close_days: lost leads per close day x partner x model x pipeline x source: beside the won deals
-- closed in a period, the close view's win rate of the leads closed then (won / (won + lost)).
create or replace table fact_lost_close_days as
select closed_date, partner_id, model, pipeline_id, utm_source, source_name, count(*) as lost
from lead_facts
where is_lost and closed_date is not null
group by all
order by closed_date, partner_id;

-- fact_lead_stage: one row per lead with the furthest stage (by sort, lost excluded) it reached in its current
-- pipeline, from its current status and its stage history (null when neither is a known stage): the funnel.
create or replace table fact_lead_stage as
with stages as (
    select pipeline_id, status_id, sort from raw_statuses where status_id <> 143
),
event_max as (
    -- furthest stage in the history of each lead not won (a won lead is already at the top)
    select e.lead_id, e.pipeline_id, max(s.sort) as max_sort
    from (
        select lead_id, pipeline_after as pipeline_id, status_after as status_id from raw_lead_status_events
        union all
        select lead_id, pipeline_before, status_before from raw_lead_status_events
    ) e
    join stages s on s.pipeline_id = e.pipeline_id and s.status_id = e.status_id
    where e.lead_id in (select lead_id from lead_facts where status_id <> 142)
    group by all
)
select l.lead_id, l.pipeline_id, greatest(c.sort, m.max_sort) as max_sort
from lead_facts l
left join stages c on c.pipeline_id = l.pipeline_id and c.status_id = l.status_id
left join event_max m on m.lead_id = l.lead_id and m.pipeline_id = l.pipeline_id
order by l.lead_id;

-- fact_stage_days: leads per creation day x partner x model x pipeline x furthest stage sort (fact_lead_stage): the
-- funnel without reading every lead (source columns null, like fact_lead_days_partner: a source filter reads the
-- leads one by one).
create or replace table fact_stage_days as
select l.created_date, l.partner_id, l.model, l.pipeline_id, cast(null as varchar) as utm_source,
    cast(null as varchar) as source_name, s.max_sort, count(*) as leads
from lead_facts l
left join fact_lead_stage s on s.lead_id = l.lead_id
group by all
order by created_date, partner_id;

-- fact_sources: one row per lead source value a filter can take (UTM source, or the amoCRM source name when it
-- differs) with its lead count: the source filter's choices.
create or replace table fact_sources as
with vals as (
    select utm_source as source from lead_facts where nullif(trim(utm_source), '') is not null
    union all
    select source_name from lead_facts
    where nullif(trim(source_name), '') is not null and source_name is distinct from utm_source
)
select source, count(*) as leads
from vals
group by source;

-- fact_field_fill: one row per lead custom field with the number of live leads that fill it (the settings page's
-- field list; from the raw field values, which change only with a sync).
create or replace table fact_field_fill as
select v.field_id, count(distinct v.lead_id) as filled
from raw_lead_field_values v join raw_leads l on l.id = v.lead_id
where not coalesce(l.is_deleted, false) and nullif(trim(v.value), '') is not null
group by v.field_id;
