-- index_partner_days: one row per partner x day with the revenue of its won deals dated that day (close date,
-- else creation date) — the base of monthly commission tiers. Depends on lead_facts only. No parameters.
select partner_id, coalesce(closed_date, created_date) as rule_day, sum(amount) as revenue
from lead_facts
where is_won and partner_id is not null
group by all
