-- bind_partner_days_view: (statement) m_partner_days computed in place from lead_facts: one row per partner x day
-- with its won revenue (as index_partner_days.sql).
create or replace temp view m_partner_days as
select partner_id, coalesce(closed_date, created_date) as rule_day, sum(amount) as revenue
from lead_facts
where is_won and partner_id is not null
group by all
