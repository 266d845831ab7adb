-- Migration 0008_definitions (issue 19), between views.sql (re-run: the client of a won deal is its main contact,
-- else its company, else its other contact with the lowest id) and derived.sql (the fact tables rebuilt, with
-- fact_lost_close_days): commission rules say how their tiers apply, and lead_facts is rebuilt from the views.
-- tier_kind: 'marginal' (each band's rate on the revenue inside it, like tax brackets; every existing rule keeps
-- it) or 'whole' (the highest band reached sets the rate of the whole month's revenue).
alter table commission_rules add column if not exists tier_kind varchar default 'marginal';
update commission_rules set tier_kind = 'marginal' where tier_kind is null;
create or replace table lead_facts as select * from stg_lead_facts order by created_date, lead_id;
