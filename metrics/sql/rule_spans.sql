-- rule_spans: one row per partner x commission rule x span of days the rule rewards that partner (on days a
-- partner has rules of its own in force, only those). Reads m_rules and partners. No parameters.
with
{% include "_rule_chain.sql" %}
select partner_id, rule_id, kind, rate, span_from, span_to from rule_spans
