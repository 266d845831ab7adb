-- bind_ledger: (statement) the typed ledger relation every cost query reads; one row per partner x month x
-- category with the month's amount. Source: the relation m_ledger_src (the table or a scenario's DataFrame).
create or replace temp view m_ledger as
select cast(partner_id as integer) as partner_id,
    cast(date_trunc('month', cast(month as date)) as date) as month,
    cast(category as varchar) as category,
    cast(amount as double) as amount
from m_ledger_src
