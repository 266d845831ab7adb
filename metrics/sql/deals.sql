-- deals: one row per lead of L or won deal in scope of the chosen partner (or direct), with its stage,
-- dates, amount and the commission the rules give it. Parameters: those of _scope and _costs (the filters
-- narrowed to one partner, or to the direct model). Slots: _scope / _costs with no grouping.
with
-- include: _scope
,
-- include: _costs
,
-- include: _unit_commission
,
ids as (
    select lead_id from lead_rows
    union
    select lead_id from deal_rows
)
select
    f.lead_id, f.lead_name, f.pipeline_id, p.name as pipeline, f.status_id, s.name as stage,
    f.created_date, f.closed_date, f.amount, f.is_won, f.is_lost, f.is_qualified, f.loss_reason,
    f.close_days, f.client_key, f.partner_id, f.partner_name as partner, f.model,
    f.lead_id in (select lead_id from deal_rows) as in_deals,
    coalesce(dc.commission, 0.0) + coalesce(lc.commission, 0.0) as commission
from ids
join lead_facts f on f.lead_id = ids.lead_id
left join raw_pipelines p on p.id = f.pipeline_id
left join raw_statuses s on s.pipeline_id = f.pipeline_id and s.status_id = f.status_id
left join deal_commission dc on dc.lead_id = f.lead_id
left join lead_commission lc on lc.lead_id = f.lead_id
order by f.created_date desc, f.lead_id desc
