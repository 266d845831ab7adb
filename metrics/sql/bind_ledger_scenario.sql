-- bind_ledger_scenario: (statement) m_ledger_src as a scenario's ledger, the DataFrame registered as
-- m_ledger_df; one row per partner x month x category.
create or replace temp view m_ledger_src as
select partner_id, month, category, amount
from m_ledger_df
