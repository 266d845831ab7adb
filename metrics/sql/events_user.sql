-- events_user: one row per user event (user_events) from $date_from to $date_to that concerns a scope: every
-- event of the whole programme; a model's when $whole or the model is in $models; a partner's when the partner is
-- in $partners. Parameters: $date_from, $date_to (dates), $whole (boolean), $models (model keys), $partners
-- (partner_ids). Columns: id, day, title, scope, value.
select id, day, title, scope, value
from user_events
where day between $date_from and $date_to
    and (scope = 'all'
        or (scope = 'model' and ($whole or list_contains($models, value)))
        or (scope = 'partner' and list_contains($partners, try_cast(value as integer))))
order by day, id
