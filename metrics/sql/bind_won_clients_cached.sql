-- bind_won_clients_cached: (statement) m_won_clients as the cached index table registered as m_won_clients_arrow
-- (see index_won_clients.sql for what one row is).
create or replace temp view m_won_clients as
select * from m_won_clients_arrow
