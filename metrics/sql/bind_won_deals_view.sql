-- bind_won_deals_view: (statement) m_won_deals computed in place from lead_facts (as index_won_deals.sql): one
-- row per won lead with its client hash and that client's all-time won deals and revenue.
create or replace temp view m_won_deals as
select lead_id, partner_id, model, pipeline_id, utm_source, source_name, created_date, closed_date, amount,
    close_days, cast(hash(client_key) >> 1 as bigint) as client,
    count(*) over (partition by client_key) as client_deals,
    sum(amount) over (partition by client_key) as client_revenue
from lead_facts
where is_won
