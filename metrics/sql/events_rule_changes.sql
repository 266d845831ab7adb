-- events_rule_changes: one row per audit_log row that changed the commission rules, oldest first: a rule added,
-- the rules table replaced (before / after as JSON lists of rules) or a rule deleted, and a what-if scenario
-- applied with rules (after: {"rules": n}). Columns: event_id, happened_at (UTC), action, entity, entity_key,
-- before, after. No parameters: metrics.events replays the whole log (a deleted rule is named by its last state).
select event_id, happened_at, action, entity, entity_key, before, after
from audit_log
where (entity = 'commission_rules' and action in ('add', 'replace', 'delete'))
    or (entity = 'scenario' and action = 'apply'
        and coalesce(try_cast(json_extract_string(after, '$.rules') as integer), 0) > 0)
order by event_id
