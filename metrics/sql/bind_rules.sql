-- bind_rules: (statement) the typed commission-rule relation every cost query reads; one row per rule.
-- Source: the relation m_rules_src (the table or a scenario's DataFrame).
create or replace temp view m_rules as
select cast(rule_id as integer) as rule_id,
    cast(model as varchar) as model,
    cast(partner_id as integer) as partner_id,
    cast(kind as varchar) as kind,
    cast(rate as double) as rate,
    cast(tiers as varchar) as tiers,
    -- how tiers apply: 'whole' (the highest band reached sets the month's rate), else 'marginal' (tax brackets)
    case when cast(tier_kind as varchar) = 'whole' then 'whole' else 'marginal' end as tier_kind,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to
from m_rules_src
