-- bind_won_clients_view: (statement) m_won_clients computed in place from lead_facts: one row per won lead with
-- its client hash, close date and amount (as index_won_clients.sql).
create or replace temp view m_won_clients as
select cast(hash(client_key) >> 1 as bigint) as client, closed_date, amount
from lead_facts
where is_won
