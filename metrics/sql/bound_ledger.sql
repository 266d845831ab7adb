-- bound_ledger: one row per partner x month x category of the bound ledger (m_ledger). No parameters.
select partner_id, month, category, amount
from m_ledger
order by partner_id, month, category
