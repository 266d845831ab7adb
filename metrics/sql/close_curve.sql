-- close_curve: the time-to-close curve of the account, per pipeline and for all pipelines (pipeline_id null):
-- share = the estimated share of won deals that close within `day` days of their creation (day 0 .. 730), from
-- the won deals created in the 24 months before the data's as-of date (as_of: the last day any lead was created
-- or any won deal closed). deals = the won deals behind the curve. A pipeline gets its own curve from 30 won deals.
-- Recent deals are seen only when they closed fast (a deal created 10 days ago can show at most 10 days to close):
-- that right truncation would make young cohorts look mature, so the share is the Lynden-Bell estimate (product
-- over later days s of 1 - closes on day s / deals at risk on day s, at risk = closed by day s and old enough
-- to have been seen closing on day s). With only old deals it equals the plain cumulative share.
-- No parameters. Read once per data version (metrics.maturity caches it by close_curve_key.sql).
with
as_of as (
    select greatest((select max(created_date) from fact_lead_days_partner),
                    (select max(closed_date) from fact_won_deals)) as t
),
won as (
    select w.pipeline_id, least(cast(floor(greatest(w.close_days, 0)) as integer), 730) as x,
        cast(a.t - w.created_date as integer) as age
    from fact_won_deals w, as_of a
    where w.created_date > cast(a.t - interval 24 month as date) and w.close_days is not null
),
levels as (
    -- -1 = all pipelines (a sentinel: null keys would not join below)
    select pipeline_id as level, x, age from won
    union all
    select -1, x, age from won
),
sizes as (
    select level, count(*) as deals from levels group by level having level = -1 or count(*) >= 30
),
grid as (
    select s.level, s.deals, d.day from sizes s, range(0, 731) d(day)
),
closes as (
    select level, x as day, count(*) as n from levels group by all
),
ages as (
    select level, least(age, 731) as day, count(*) as n from levels group by all
),
steps as (
    -- per day s: closes on s, closed by s, and deals younger than s days (those could not show a close on s)
    select g.level, g.deals, g.day, coalesce(c.n, 0) as n_s,
        sum(coalesce(c.n, 0)) over w - (sum(coalesce(a.n, 0)) over w - coalesce(a.n, 0)) as at_risk
    from grid g
    left join closes c on c.level = g.level and c.day = g.day
    left join ages a on a.level = g.level and a.day = g.day
    window w as (partition by g.level order by g.day)
),
factors as (
    select level, deals, day, case when n_s = 0 then 1.0 else 1.0 - n_s / greatest(at_risk, n_s) end as f
    from steps
)
select nullif(level, -1) as pipeline_id, day,
    case when count(*) filter (where f <= 0) over later > 0 then 0.0
         else coalesce(exp(sum(ln(greatest(f, 1e-300))) over later), 1.0) end as share,
    deals, (select t from as_of) as as_of
from factors
window later as (partition by level order by day rows between 1 following and unbounded following)
order by level, day
