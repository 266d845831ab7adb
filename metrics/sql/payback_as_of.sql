-- payback_as_of: the data's as-of day, the latest lead creation or won-deal close (null without leads). No
-- parameters.
select max(d) from (
    select max(created_date) as d from fact_lead_days_partner
    union all
    select max(closed_date) from fact_won_deals
)
