-- bind_rules_scenario: (statement) m_rules_src as a scenario's rules, the DataFrame registered as m_rules_df;
-- one row per rule.
create or replace temp view m_rules_src as
select rule_id, model, partner_id, kind, rate, tiers, valid_from, valid_to, tier_kind
from m_rules_df
