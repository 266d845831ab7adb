-- bind_won_deals_cached: (statement) m_won_deals as the cached index table registered as m_won_deals_arrow
-- (see index_won_deals.sql for what one row is).
create or replace temp view m_won_deals as
select * from m_won_deals_arrow
