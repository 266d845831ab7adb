-- payback: one row per acquisition cohort (the month its leads were created, k_period) x month since acquisition
-- m = 0 .. the cohort's age (months from the cohort's month to $as_of_month), with what happened in that month and
-- cumulatively: income of the cohort's won deals closed in it, commissions the rules give for them (and for its
-- qualified leads, in the cohort's month: rule_hits, the KPI queries' machinery), the ledger of the cohort's month
-- (at m = 0, the share of that month the scope covers), and cumulative income − costs.
-- One scope, cohort view, grouped by month, and by model for several models at once (k_model; null when the
-- scope does not group by it: one partner). Parameters: those of _scope and _costs, $as_of_month (date: first day
-- of the data's as-of month; later closes are not counted). Template inputs: those of _scope and _costs.
{% from "_keys.sql" import k_model, k_period with context %}
with
{% include "_scope.sql" %}
,
{% include "_costs.sql" %}
,
cohort_leads as (
    select {{ k_model }} as k_model, {{ k_period }} as cohort, sum(leads) as leads, sum(won_leads) as won_leads
    from lead_days
    group by all
),
flows as (
    -- income by the month its deal closed (income basis as in kpis: the model's margin, else the account's)
    select w.k_model, w.cohort, w.month, sum(w.amount * coalesce(mg.margin, 1.0)) as income, 0.0 as commission,
        0.0 as ledger
    from (
        select {{ k_model }} as k_model, {{ k_period }} as cohort, closed_date - cast(day(closed_date) - 1 as integer)
            as month, amount, model as deal_model
        from deal_rows
        where closed_date is not null
    ) w
    left join margins mg on mg.model = w.deal_model
    group by all
    union all
    -- commissions by the month of the event they reward (deal close, qualified lead's creation)
    select k_model, k_period, month, 0.0, sum(amount), 0.0
    from rule_hits
    group by all
    union all
    -- the ledger of the cohort's own month
    select k_model, k_period, k_period, 0.0, 0.0, sum(amount)
    from ledger_costs
    group by all
),
by_month as (
    select k_model, cohort, datediff('month', cohort, month) as m, sum(income) as income,
        sum(commission) as commission, sum(ledger) as ledger
    from flows
    where month <= $as_of_month
    group by all
),
cohorts as (
    select k_model, cohort, coalesce(max(leads), 0) as leads, coalesce(max(won_leads), 0) as won_leads,
        datediff('month', cohort, $as_of_month) as age
    from (
        select k_model, cohort, leads, won_leads from cohort_leads
        union all
        select k_model, cohort, null, null from by_month
    )
    where cohort is not null
    group by all
),
grid as (
    select c.k_model, c.cohort, c.leads, c.won_leads, c.age, unnest(generate_series(0, c.age)) as m
    from cohorts c
    where c.age >= 0
)
select g.k_model, g.cohort as k_period, g.m, g.age, g.leads, g.won_leads,
    coalesce(b.income, 0.0) as income, coalesce(b.commission, 0.0) as commission, coalesce(b.ledger, 0.0) as ledger,
    sum(coalesce(b.income, 0.0)) over w as cum_income,
    sum(coalesce(b.commission, 0.0) + coalesce(b.ledger, 0.0)) over w as cum_costs,
    sum(coalesce(b.income, 0.0) - coalesce(b.commission, 0.0) - coalesce(b.ledger, 0.0)) over w as cumulative
from grid g
left join by_month b on b.k_model is not distinct from g.k_model and b.cohort = g.cohort and b.m = g.m
window w as (partition by g.k_model, g.cohort order by g.m rows between unbounded preceding and current row)
order by g.k_model, g.cohort, g.m
