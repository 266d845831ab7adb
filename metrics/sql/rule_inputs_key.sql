-- rule_inputs_key: one row with a fingerprint of everything the rule structure depends on (the rules bound as
-- m_rules, each partner's model and the partners' won revenue per day): equal fingerprints give equal
-- rule_spans / tier_rates. No parameters.
select (select count(*) || ':' || coalesce(sum(hash(r)), 0) from m_rules r)
    || '/' || (select count(*) || ':' || coalesce(sum(hash(p.partner_id, p.model)), 0) from partners p)
    || '/' || (select count(*) || ':' || coalesce(sum(hash(d.partner_id, d.rule_day, d.revenue)), 0)
               from fact_partner_days d) as key
