-- index_won_clients: one row per won lead: its client (hash of client_key), close date and amount — the
-- lifetime index behind purchases per client and LTV. Depends on lead_facts only. No parameters.
select cast(hash(client_key) >> 1 as bigint) as client, closed_date, amount
from lead_facts
where is_won
