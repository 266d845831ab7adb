-- bind_partner_days_cached: (statement) m_partner_days as the cached index table registered as m_partner_days_arrow
-- (see index_partner_days.sql for what one row is).
create or replace temp view m_partner_days as
select * from m_partner_days_arrow
