-- tier_bands: one row per band of a tiered percent rule: [lo, hi) of a month's revenue at rate (hi null = open).
-- Reads m_rules. No parameters.
with
-- include: _rule_chain
select rule_id, rate, lo, hi from tier_bands
