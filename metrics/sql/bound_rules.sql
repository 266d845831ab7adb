-- bound_rules: one row per commission rule of the bound rules (m_rules). No parameters.
select rule_id, model, partner_id, kind, rate, tiers, valid_from, valid_to, tier_kind
from m_rules
order by rule_id
