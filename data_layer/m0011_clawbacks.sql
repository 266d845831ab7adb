-- Migration 0011_clawbacks: what commission each won deal accrued on a payout line, and the dated reversals
-- (clawbacks) written when a deal leaves "won" (status 142), is deleted or loses price after it was accrued.
-- Both tables only grow: a deal's net accrual is Σ deal_accruals.amount − Σ payout_reversals.amount.

-- One row per change of a deal's accrued commission upward: the first accrual of a payout line's deals, a deal
-- that closed later in an accrued month, a deal won again, a price raise. source: accrue (payouts.accrue),
-- backfill (lines accrued before this migration, from the data current at the first clawback run), sync (the
-- after-sync clawback step).
create sequence deal_accruals_seq;
create table deal_accruals (
    accrual_id integer primary key default nextval('deal_accruals_seq'),
    lead_id bigint not null,
    partner_id integer not null,
    month date not null,               -- the payout line's month (the deal's close month)
    amount double not null check (amount > 0),
    price double,                      -- the deal's amount when accrued
    status_id bigint,                  -- the deal's stage when accrued (142 = won)
    source varchar not null check (source in ('accrue', 'backfill', 'sync')),
    accrued_at timestamp not null default current_timestamp
);

-- One dated reversal per downward change of a deal's accrued commission. taken_from_line came off the payout
-- line's unpaid part; withheld was already paid and is owed back by the partner (a negative balance carried
-- into the next statement until later accruals cover it).
create sequence payout_reversals_seq;
create table payout_reversals (
    reversal_id integer primary key default nextval('payout_reversals_seq'),
    reversed_at timestamp not null default current_timestamp,
    statement_month date not null,     -- the statement period the reversal lands in (month of reversed_at)
    lead_id bigint not null,
    partner_id integer not null,
    accrual_month date not null,       -- the payout line the commission was accrued on
    payout_id integer,
    reason varchar not null check (reason in ('reopened', 'lost', 'deleted', 'price_drop', 'rule_change')),
    amount_before double not null,     -- the deal's net accrued commission before
    amount_after double not null,      -- … and after (what the deal earns now)
    amount double not null check (amount > 0),   -- amount_before − amount_after
    price_before double,
    price_after double,
    taken_from_line double not null default 0,
    withheld double not null default 0,
    who varchar
);

-- Payout lines whose deals are tracked (snapshot taken), so a later change is a clawback, not a first record.
create table deal_accrual_lines (
    payout_id integer primary key,
    tracked_at timestamp not null default current_timestamp,
    source varchar not null
);
