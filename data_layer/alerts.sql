-- Migration 0012_alerts: threshold alert rules, their state per scope, the events they raised and every send.
-- User data: a sync never writes these tables. No secret is ever stored here: tokens and webhook secrets stay in
-- the environment / .streamlit/secrets.toml, like the SMTP password.

-- A rule: a registry metric per scope (all / a model / a partner; a blank value = each one) under a condition.
create sequence alert_rules_seq;
create table alert_rules (
    rule_id integer primary key default nextval('alert_rules_seq'),
    name varchar not null,
    metric varchar not null,            -- a name from metrics.registry
    scope_kind varchar not null check (scope_kind in ('all', 'model', 'partner')),
    scope_value varchar,                -- a model key or a partner_id; null = each model / partner
    condition varchar not null check (condition in ('below', 'above', 'change_pct', 'anomaly', 'fell_asleep')),
    threshold double,                   -- in the metric's unit; change_pct: a fraction (0.2 = 20 %)
    window_periods integer not null check (window_periods > 0),
    grain varchar not null check (grain in ('month', 'week')),
    channels varchar not null,          -- JSON list: {"kind": "email", "to": [...]}, telegram chat_id, webhook url
    enabled boolean not null default true,
    created_at timestamp default current_timestamp,
    updated_at timestamp default current_timestamp
);

-- Whether a rule's condition holds for one scope (all, model:<key>, partner:<id>) since when, its last value.
create table alert_state (
    rule_id integer not null,
    scope_key varchar not null,
    active boolean not null,
    since timestamp,
    last_value double,
    updated_at timestamp default current_timestamp,
    primary key (rule_id, scope_key)
);

-- One row per condition start or clear: what each send of it says (kept so a failed send can be retried).
create sequence alert_events_seq;
create table alert_events (
    event_id integer primary key default nextval('alert_events_seq'),
    happened_at timestamp default current_timestamp,
    rule_id integer not null,
    scope_key varchar not null,
    event varchar not null check (event in ('start', 'clear')),
    value double,
    threshold double,
    period_from date,
    period_to date,
    detail varchar                      -- JSON: the scope's label and what the message needs besides
);

-- Every attempt to deliver an event on one of its rule's channels.
create sequence alert_sends_seq;
create table alert_sends (
    send_id integer primary key default nextval('alert_sends_seq'),
    sent_at timestamp default current_timestamp,
    event_id integer not null,
    rule_id integer not null,
    scope_key varchar not null,
    channel varchar not null,           -- email#1, telegram#2, webhook#3: the kind and its place in the rule
    event varchar not null check (event in ('start', 'clear')),
    result varchar not null check (result in ('ok', 'failed')),
    error varchar,                      -- one short sentence, secrets redacted
    attempt integer not null
);
