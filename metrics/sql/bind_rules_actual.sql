-- bind_rules_actual: (statement) m_rules_src as the real commission rules; one row per rule.
create or replace temp view m_rules_src as
select rule_id, model, partner_id, kind, rate, tiers, valid_from, valid_to, tier_kind
from commission_rules
