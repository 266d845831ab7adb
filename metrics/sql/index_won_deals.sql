-- index_won_deals: one row per won lead with what the deal metrics read, its client (hash of client_key) and
-- that client's all-time won deals and revenue (the lifetime behind purchases per client and LTV).
-- Depends on lead_facts only. No parameters.
select lead_id, partner_id, model, pipeline_id, utm_source, source_name, created_date, closed_date, amount,
    close_days, cast(hash(client_key) >> 1 as bigint) as client,
    count(*) over (partition by client_key) as client_deals,
    sum(amount) over (partition by client_key) as client_revenue
from lead_facts
where is_won
