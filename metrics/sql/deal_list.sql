-- deal_list: the leads / deals behind a number (metrics.drill): one row per row of deals.sql (with won_only, the won
-- deals in scope; else every lead of L, plus the close view's won deals created outside the period) with the name of
-- its client (main contact, else company, else contact) and whether the lead is pre-existing (fact_preexisting: its
-- client was ours already), newest first.
-- Parameters: those of deals.sql (_scope and _costs, one scope). Template inputs: those of deals.sql, i.e. of
-- _scope.sql and _costs, and won_only.
select d.*, coalesce(c.name, co.name) as client,
       d.lead_id in (select lead_id from fact_preexisting) as preexisting
from (
{% include "deals.sql" %}
) d
left join raw_contacts c on d.client_key = 'c' || c.id
left join raw_companies co on d.client_key = 'co' || co.id
order by d.created_date desc, d.lead_id desc
