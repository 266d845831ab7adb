-- Migration 0013_events: the events a user marks on the charts (a campaign, a new price list, a training).
-- One row per event: the day it happened, a short title and whom it concerns: the whole programme (scope 'all'),
-- one partnership model (value = the model key) or one partner (value = its partner_id as text).
create sequence user_events_seq;
create table user_events (
    id integer primary key default nextval('user_events_seq'),
    day date not null,
    title varchar not null check (length(title) between 1 and 80),
    scope varchar not null check (scope in ('all', 'model', 'partner')),
    value varchar,
    created_by varchar,
    created_at timestamp default current_timestamp,
    check ((scope = 'all') = (value is null))
);
