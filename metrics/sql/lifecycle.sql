-- lifecycle: one row per partner recruited on or before $as_of (the partners table, inactive partners left out):
-- its milestones as of that day and its lifecycle stage (docs/user-guide.md "Жизненный цикл партнёра").
-- Parameters: $as_of (date), $active_days, $dormant_days (integers, dormant > active). No template inputs.
-- Only leads created on or before $as_of and won deals closed on or before it count (deleted leads never do).
-- added_on: the partner's start date, else the day its row was added (by hand or when the CRM first named it).
-- recruited_on: the earlier of added_on and its first lead (a partner found in the CRM through old leads was
-- recruited when it brought the first of them).
with lead_dates as (
    select partner_id, min(created_date) as first_lead_on, max(created_date) as last_lead_on,
        sum(leads) :: bigint as leads
    from fact_lead_days_partner
    where partner_id is not null and created_date <= $as_of
    group by partner_id
),
won_dates as (
    select partner_id, min(coalesce(closed_date, created_date)) as first_won_on, count(*) as won_deals
    from fact_won_deals
    where partner_id is not null and coalesce(closed_date, created_date) <= $as_of
    group by partner_id
),
milestones as (
    select p.partner_id, p.name as partner, coalesce(p.model, 'unassigned') as model,
        coalesce(p.start_date, cast(p.created_at as date)) as added_on,
        least(coalesce(p.start_date, cast(p.created_at as date)), l.first_lead_on) as recruited_on,
        l.first_lead_on, w.first_won_on, l.last_lead_on, coalesce(l.leads, 0) :: bigint as leads,
        coalesce(w.won_deals, 0) :: bigint as won_deals
    from partners p
    left join lead_dates l using (partner_id)
    left join won_dates w using (partner_id)
    where coalesce(p.active, true)
),
-- stage_rule: the stage as of $as_of, first match wins (days_since = days since the last lead):
--   recruited  no lead yet (never_started: recruited $dormant_days days ago or more and still no lead)
--   dormant    leads, but none in the last $dormant_days days (days_since >= $dormant_days)
--   first_lead leads, the last within $dormant_days days, no won deal yet
--   first_deal the first won deal closed within the last $active_days days
--   active     a won deal before that and a lead within the last $active_days days (days_since < $active_days)
--   cooling    a won deal before that, the last lead $active_days to $dormant_days days ago (not dormant yet)
stage_rule as (
    select *,
        case when first_lead_on >= added_on then date_diff('day', added_on, first_lead_on) end
            :: integer as days_to_first_lead,
        date_diff('day', recruited_on, first_won_on) :: integer as days_to_first_deal,
        date_diff('day', last_lead_on, $as_of) :: integer as days_since_lead,
        case
            when first_lead_on is null then 'recruited'
            when date_diff('day', last_lead_on, $as_of) >= $dormant_days then 'dormant'
            when first_won_on is null then 'first_lead'
            when date_diff('day', first_won_on, $as_of) < $active_days then 'first_deal'
            when date_diff('day', last_lead_on, $as_of) < $active_days then 'active'
            else 'cooling'
        end as stage,
        first_lead_on is null and date_diff('day', recruited_on, $as_of) >= $dormant_days as never_started
    from milestones
    where recruited_on <= $as_of
)
select partner_id, partner, model, recruited_on, first_lead_on, first_won_on, last_lead_on, days_to_first_lead,
    days_to_first_deal, days_since_lead, leads, won_deals, stage, never_started
from stage_rule
order by lower(partner), partner_id
