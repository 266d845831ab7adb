-- Migration 0001_core: raw tables shaped after amoCRM API v4, sync bookkeeping, user data.
-- Raw timestamps stay Unix seconds as the API sends them; staging views turn them into account-local dates.

-- ---------- raw: written only by the sync (and the demo loader, through the same save code) ----------
create table raw_account (
    id bigint primary key,
    name varchar,
    subdomain varchar,
    currency varchar,          -- ISO code, e.g. RUB
    timezone varchar,          -- datetime_settings.timezone, e.g. Europe/Moscow
    country varchar
);

create table raw_users (
    id bigint primary key,
    name varchar,
    email varchar,
    is_active boolean
);

create table raw_pipelines (
    id bigint primary key,
    name varchar,
    sort integer,
    is_main boolean,
    is_archive boolean
);

-- 142 (won) and 143 (lost) repeat in every pipeline: the key is pipeline + status.
create table raw_statuses (
    pipeline_id bigint,
    status_id bigint,
    name varchar,
    sort integer,
    type integer,              -- 1 = incoming / unsorted
    color varchar,
    primary key (pipeline_id, status_id)
);

create table raw_lead_fields (
    id bigint primary key,
    name varchar,
    code varchar,
    type varchar,
    sort integer
);

create table raw_lead_field_enums (
    field_id bigint,
    enum_id bigint,
    value varchar,
    sort integer,
    primary key (field_id, enum_id)
);

create table raw_loss_reasons (
    id bigint primary key,
    name varchar,
    sort integer
);

create table raw_sources (
    id bigint primary key,
    name varchar
);

create table raw_leads (
    id bigint primary key,
    name varchar,
    price bigint,
    price_minor double,        -- price_with_minor_units (major units with fraction) when the API sends it
    responsible_user_id bigint,
    group_id bigint,
    status_id bigint,
    pipeline_id bigint,
    loss_reason_id bigint,
    source_id bigint,
    created_by bigint,
    updated_by bigint,
    created_at bigint,
    updated_at bigint,
    closed_at bigint,
    is_deleted boolean default false,
    deleted_at bigint
);

-- One row per custom-field value (multiselects give several rows).
create table raw_lead_field_values (
    lead_id bigint,
    field_id bigint,
    value_idx integer,
    field_name varchar,
    field_code varchar,
    field_type varchar,
    value varchar,
    enum_id bigint,
    primary key (lead_id, field_id, value_idx)
);

create table raw_lead_tags (
    lead_id bigint,
    tag_id bigint,
    name varchar,
    primary key (lead_id, tag_id)
);

create table raw_lead_contacts (
    lead_id bigint,
    contact_id bigint,
    is_main boolean,
    primary key (lead_id, contact_id)
);

create table raw_lead_companies (
    lead_id bigint,
    company_id bigint,
    primary key (lead_id, company_id)
);

-- Phones and e-mails are not copied: only their counts, which lead quality needs.
create table raw_contacts (
    id bigint primary key,
    name varchar,
    responsible_user_id bigint,
    created_at bigint,
    updated_at bigint,
    phone_count integer,
    email_count integer,
    is_deleted boolean default false
);

create table raw_companies (
    id bigint primary key,
    name varchar,
    created_at bigint,
    updated_at bigint,
    is_deleted boolean default false
);

-- lead_status_changed events: the stage history.
create table raw_lead_status_events (
    id varchar primary key,
    lead_id bigint,
    created_at bigint,
    created_by bigint,
    pipeline_before bigint,
    status_before bigint,
    pipeline_after bigint,
    status_after bigint
);

-- ---------- sync bookkeeping ----------
create table sync_state (
    entity varchar primary key,
    watermark bigint,          -- last fully stored updated_at / created_at (Unix seconds)
    updated_at timestamp
);

create sequence sync_runs_seq;
create table sync_runs (
    run_id bigint primary key default nextval('sync_runs_seq'),
    started_at timestamp,
    finished_at timestamp,
    mode varchar,              -- full | incremental | demo
    status varchar,            -- running | ok | failed
    requests integer,
    throttled integer,         -- 429 answers
    seconds double,
    message varchar
);

create table meta (
    key varchar primary key,
    value varchar
);

-- ---------- user data: entered in the app or imported; a sync only adds partners and fills empty models ----------
create sequence partners_seq;
create table partners (
    partner_id integer primary key default nextval('partners_seq'),
    name varchar not null unique,
    model varchar check (model in ('referral', 'sales', 'service')),
    model_source varchar check (model_source in ('user', 'crm')),
    aliases varchar[] default [],
    manager varchar,
    start_date date,
    active boolean default true,
    created_at timestamp default current_timestamp,
    updated_at timestamp default current_timestamp
);

create table cost_ledger (
    partner_id integer not null,
    month date not null,       -- first day of the month
    category varchar not null check (category in ('commission', 'bonus', 'marketing', 'training', 'support', 'other')),
    amount decimal(18, 2) not null check (amount >= 0),
    note varchar,
    updated_at timestamp default current_timestamp,
    primary key (partner_id, month, category)
);

-- A rule belongs to a model (partner_id null) or overrides it for one partner (model null).
-- kind: percent_revenue (rate = fraction, tiers optional), fixed_per_deal, fixed_per_qualified_lead (rate = money).
create sequence commission_rules_seq;
create table commission_rules (
    rule_id integer primary key default nextval('commission_rules_seq'),
    model varchar check (model in ('referral', 'sales', 'service')),
    partner_id integer,
    kind varchar not null check (kind in ('percent_revenue', 'fixed_per_deal', 'fixed_per_qualified_lead')),
    rate double not null check (rate >= 0),
    tiers varchar,             -- JSON list of {"up_to": money or null, "rate": fraction}, monthly revenue tiers
    valid_from date,
    valid_to date,
    check ((model is null) <> (partner_id is null))
);

create table settings (
    key varchar primary key,
    value varchar not null,    -- JSON
    updated_at timestamp default current_timestamp
);

create sequence scenarios_seq;
create table scenarios (
    scenario_id integer primary key default nextval('scenarios_seq'),
    name varchar not null unique,
    created_at timestamp default current_timestamp,
    payload varchar not null   -- JSON: edited cost inputs
);
