-- revenue_total: one row with the revenue and count of the won deals in scope (every filter, the chosen view).
-- Parameters and template inputs: those of _scope (one scope).
with
{% include "_scope.sql" %}
select coalesce(sum(amount), 0.0) as revenue, count(*) as won_deals
from deal_rows
