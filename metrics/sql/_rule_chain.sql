-- fragment _rule_chain: the commission-rule structure (spliced in by an include of _rule_chain.sql); depends on the
-- rules bound as m_rules and on each partner's model only, never on filters, so metrics.costs computes it once
-- per data version and rule set and binds it as m_rule_spans (and the tiers' rates, tier_rates.sql, as
-- m_tier_rates). No parameters.
--   rules:      m_rules with open validity bounds filled in.
--   tier_bands: monthly bands of tiered percent rules, with the rule's tier_kind (marginal / whole).
--   rule_spans: the days each rule rewards each partner.
pm as (
    select partner_id, coalesce(model, 'unassigned') as model from partners
),
rules as (
    select rule_id, model, partner_id, kind, rate, tiers, tier_kind,
        coalesce(valid_from, date '0001-01-01') as valid_from,
        coalesce(valid_to, date '9999-12-31') as valid_to
    from m_rules
),
tier_bands as (
    -- monthly bands of tiered percent rules: (lo, hi] at rate; the top band is open
    select rule_id, tier_kind, rate,
        coalesce(lag(up_to) over (partition by rule_id order by up_to nulls last), 0) as lo,
        case when row_number() over (partition by rule_id order by up_to desc nulls first) = 1
             then null else up_to end as hi
    from (
        select rule_id, tier_kind, unnest(from_json(tiers, '[{"up_to": "DOUBLE", "rate": "DOUBLE"}]'), recursive := true)
        from rules
        where kind = 'percent_revenue' and nullif(trim(tiers), '') is not null
    )
),
rule_partners as (
    -- every partner a rule may reward: its own partner, or each partner of its model
    select partner_id, rule_id, true as own, valid_from, valid_to from rules where partner_id is not null
    union all
    select p.partner_id, r.rule_id, false, r.valid_from, r.valid_to
    from rules r join pm p on p.model = r.model
    where r.partner_id is null
),
bounds as (
    select partner_id, valid_from as b from rule_partners
    union
    select partner_id, valid_to + 1 from rule_partners where valid_to < date '9999-12-31'
    union
    select partner_id, date '0001-01-01' from rule_partners
),
pieces as (
    select partner_id, b as p_from,
        coalesce(lead(b) over (partition by partner_id order by b) - 1, date '9999-12-31') as p_to
    from bounds
),
rule_spans as (
    -- the days each rule rewards each partner: on days a partner has rules of its own in force, only those
    select rp.partner_id, rp.rule_id, r.kind, r.rate, pc.p_from as span_from, pc.p_to as span_to
    from pieces pc
    join rule_partners rp on rp.partner_id = pc.partner_id and pc.p_from between rp.valid_from and rp.valid_to
    join rules r on r.rule_id = rp.rule_id
    qualify rp.own = max(rp.own) over (partition by pc.partner_id, pc.p_from)
)
