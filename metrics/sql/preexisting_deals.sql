-- preexisting_deals: the pre-existing won deals of one partner (fact_preexisting) in the period, newest first, each
-- with its client and the earlier lead that makes it pre-existing (both dates, how the client matched).
-- Parameters: $partner_id (int), $date_from / $date_to (dates), $close_view (bool: the period holds the close
-- date, else the creation date).
with deals as (
    select w.lead_id, w.lead_name, w.amount, w.created_date, w.closed_date, w.client_key, x.earlier_lead_id,
        x.earlier_created_date, x.match_kind
    from fact_won_deals w
    join fact_preexisting x on x.lead_id = w.lead_id
    where w.partner_id = $partner_id and w.preexisting
      and case when $close_view then w.closed_date else w.created_date end between $date_from and $date_to
),
clients as (
    -- the client's name: the lead's main contact, else its company (metrics-spec "client of a won deal")
    select d.lead_id,
        coalesce(any_value(c.name) filter (where lc.is_main), any_value(k.name), any_value(c.name)) as client
    from deals d
    left join raw_lead_contacts lc on lc.lead_id = d.lead_id
    left join raw_contacts c on c.id = lc.contact_id
    left join raw_lead_companies lk on lk.lead_id = d.lead_id
    left join raw_companies k on k.id = lk.company_id
    group by d.lead_id
)
select d.lead_id, d.lead_name, c.client, d.amount, d.created_date, d.closed_date, d.earlier_lead_id,
    e.lead_name as earlier_lead_name, d.earlier_created_date, e.closed_date as earlier_closed_date,
    -- why the earlier lead counts: it was won, or direct, or else open when the partner's lead came
    case when e.is_won then 'won' when e.partner_id is null then 'direct' else 'open' end as earlier_kind,
    e.partner_name as earlier_partner, d.match_kind
from deals d
join lead_facts e on e.lead_id = d.earlier_lead_id
left join clients c on c.lead_id = d.lead_id
order by d.created_date desc, d.lead_id desc
