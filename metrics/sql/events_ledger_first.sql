-- events_ledger_first: each cost category's first month with a non-zero amount in the ledger of a scope, and the
-- scope's first ledger month (first_any: a category starting with the ledger itself is where the records begin).
-- Parameters: $whole (true: the whole ledger), $models (model keys), $partners (partner_ids); without $whole a row
-- counts when its partner is in $partners or the partner's model is in $models.
with scoped as (
    select l.category, l.month
    from cost_ledger l
    left join partners p using (partner_id)
    where l.amount <> 0
        and ($whole or list_contains($partners, l.partner_id) or list_contains($models, p.model))
)
select category, min(month) as first_month, (select min(month) from scoped) as first_any
from scoped
group by category
order by first_month, category
