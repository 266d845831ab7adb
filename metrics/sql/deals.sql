-- deals: one row per won deal in scope (or, with $won_only false, also every lead of L) of the filters narrowed
-- to one partner or to direct, with its stage, dates, amount and the commission the rules give it.
-- Parameters: those of _scope and _costs (one scope). Template inputs: those of _scope and _costs, and won_only (true: only the
-- won deals in scope; false: every lead of L).
with
{% include "_scope.sql" %}
,
{% include "_costs.sql" %}
,
{% include "_unit_commission.sql" %}
,
listed as (
    -- won_only: the won deals in scope, from fact_won_deals (it carries what the list shows, so the query
    -- does not scan every lead of the period)
    select lead_id, lead_name, pipeline_id, status_id, created_date, closed_date, amount, true as is_won, is_lost,
        is_qualified, loss_reason, close_days, client_key, partner_id, partner_name, model,
        true as in_deals, created_date between s_from and s_to as in_leads,
        coalesce(closed_date, created_date) as rule_day
    from fact_won_deals, scopes
    where {{ "true" if won_only else "false" }} and lead_id in (select lead_id from deal_rows)
    union all
    -- otherwise the leads of L, plus (close view) won deals closed in the period but created outside it
    select lead_id, lead_name, pipeline_id, status_id, created_date, closed_date, amount, is_won, is_lost,
        is_qualified, loss_reason, close_days, client_key, partner_id, partner_name, model,
        is_won and case when close_view then closed_date else created_date end between s_from and s_to as in_deals, true as in_leads,
        coalesce(closed_date, created_date) as rule_day
    from lead_facts, scopes
    where not {{ "true" if won_only else "false" }} and created_date between s_from and s_to and created_date between $date_from and $date_to
      {% include "_where.sql" %}
    union all
    select lead_id, lead_name, pipeline_id, status_id, created_date, closed_date, amount, is_won, is_lost,
        is_qualified, loss_reason, close_days, client_key, partner_id, partner_name, model,
        true, false, coalesce(closed_date, created_date)
    from lead_facts
    where not {{ "true" if won_only else "false" }} and lead_id in (select lead_id from deal_rows where not (created_date between s_from and s_to))
)
select
    l.lead_id, l.lead_name, l.pipeline_id, p.name as pipeline, l.status_id, s.name as stage,
    l.created_date, l.closed_date, l.amount, l.is_won, l.is_lost, l.is_qualified, l.loss_reason,
    l.close_days, l.client_key, l.partner_id, l.partner_name as partner, l.model, l.in_deals, l.in_leads,
    coalesce(case when l.in_deals then l.amount * dr.pct + dr.fixed end, 0.0)
        + coalesce(case when l.in_leads and l.is_qualified then lr.fixed end, 0.0) as commission
from listed l
left join raw_pipelines p on p.id = l.pipeline_id
left join raw_statuses s on s.pipeline_id = l.pipeline_id and s.status_id = l.status_id
left join day_rates dr on dr.partner_id = l.partner_id and dr.rule_day = l.rule_day and dr.is_deal
left join day_rates lr on lr.partner_id = l.partner_id and lr.rule_day = l.created_date and not lr.is_deal
order by l.created_date desc, l.lead_id desc
