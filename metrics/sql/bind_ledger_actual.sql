-- bind_ledger_actual: (statement) m_ledger_src as the real cost ledger; one row per partner x month x category.
create or replace temp view m_ledger_src as
select partner_id, month, category, amount
from cost_ledger
