-- rule_inputs_key: one row with a fingerprint of everything the rule structure depends on (the rules bound as
-- m_rules and each partner's model): equal fingerprints give equal rule_spans / tier_bands. No parameters.
select (select count(*) || ':' || coalesce(sum(hash(r)), 0) from m_rules r)
    || '/' || (select count(*) || ':' || coalesce(sum(hash(p.partner_id, p.model)), 0) from partners p) as key
