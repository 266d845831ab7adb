-- Migration 0003_goals_payouts_audit: program goals, commission payouts with their history, audit log.

-- A target on one registry metric for the program, a model or a partner over a period.
create sequence goals_seq;
create table goals (
    goal_id integer primary key default nextval('goals_seq'),
    scope varchar not null check (scope in ('program', 'model', 'partner')),
    model varchar check (model in ('referral', 'sales', 'service', 'direct')),
    partner_id integer,
    metric varchar not null,           -- a name from metrics.registry
    op varchar not null check (op in ('>=', '<=')),
    target double not null,
    date_from date not null,
    date_to date not null,
    note varchar,
    created_at timestamp default current_timestamp,
    check (date_from <= date_to),
    check ((scope = 'model') = (model is not null)),
    check ((scope = 'partner') = (partner_id is not null))
);

-- One payout line per partner x month: accrued -> approved -> paid, or reversed. Amounts only grow
-- through recorded events; nothing is edited silently.
create sequence payouts_seq;
create table payouts (
    payout_id integer primary key default nextval('payouts_seq'),
    partner_id integer not null,
    month date not null,
    accrued double not null check (accrued >= 0),
    approved double not null default 0 check (approved >= 0),
    paid double not null default 0 check (paid >= 0),
    status varchar not null default 'accrued' check (status in ('accrued', 'approved', 'paid', 'reversed')),
    updated_at timestamp default current_timestamp,
    unique (partner_id, month)
);

create sequence payout_events_seq;
create table payout_events (
    event_id integer primary key default nextval('payout_events_seq'),
    payout_id integer not null,
    happened_at timestamp default current_timestamp,
    who varchar,
    action varchar not null check (action in ('accrue', 'approve', 'pay', 'reverse')),
    amount double,
    paid_on date,
    reference varchar,
    reason varchar
);

-- Who changed what in user data (ledger, rules, partners, mapping, settings, scenarios applied).
create sequence audit_seq;
create table audit_log (
    event_id integer primary key default nextval('audit_seq'),
    happened_at timestamp default current_timestamp,
    who varchar,
    action varchar not null,
    entity varchar not null,
    entity_key varchar,
    before varchar,                    -- JSON
    after varchar                      -- JSON
);
