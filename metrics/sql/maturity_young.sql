-- maturity_young: the leads younger than the time-to-close curve's full day (created on or after $young), per
-- creation day x partner x model x pipeline x source, with their shortfall of closed won deals at the data's as-of
-- date: Σ leads x (1 - curve(age)), age = $as_of - creation date, from the curve of the lead's pipeline (the
-- all-pipelines curve when the pipeline has none of its own), as maturity.sql computes it per frame. Read once per
-- data version beside the curve (metrics.maturity); each frame's maturity then sums these rows (metrics.young).
-- The period columns are the rows' week, month and quarter starts (metrics.sql.PERIOD_START). m_close_curve is
-- bound by metrics.maturity. Parameters: $as_of, $young.
with
curve as (
    select pipeline_id as c_pipeline, day as c_day, share as c_share from m_close_curve
),
young as (
    select l.created_date as d, l.partner_id, l.model, l.pipeline_id, l.utm_source, l.source_name, l.leads,
        least(greatest(cast($as_of - l.created_date as integer), 0), 730) as age
    from fact_lead_days l
    where l.created_date >= $young
)
select d, partner_id, model, pipeline_id, utm_source, source_name, coalesce(utm_source, source_name) as source,
    (d - cast(isodow(d) - 1 as integer)) as p_week, (d - cast(day(d) - 1 as integer)) as p_month,
    cast(date_trunc('quarter', d) as date) as p_quarter,
    sum(leads * (1 - coalesce(c.c_share, o.c_share, 1))) as shortfall
from young
left join curve c on c.c_pipeline = young.pipeline_id and c.c_day = young.age
left join curve o on o.c_pipeline is null and o.c_day = young.age
group by all
order by all
