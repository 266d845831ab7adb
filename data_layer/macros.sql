-- Migration 0009_rule_macros: the product's shared rules, written once. Every SQL file calls these macros and
-- Python evaluates them through metrics.rules (an in-memory DuckDB with this very file), so a band or an interval
-- cannot differ between a page, a report and the CLI.

-- ROI band (metrics-spec): excellent ≥ 2, profitable ≥ 0.5, marginal ≥ 0, loss < 0, n/a without a ROI.
create or replace macro roi_band(roi) as
    case when roi is null then 'n/a' when roi >= 2 then 'excellent' when roi >= 0.5 then 'profitable'
         when roi >= 0 then 'marginal' else 'loss' end;

-- Wilson score interval of k successes in n trials (z2 = z², 3.841458820694124 for 95 %): exact at the edges
-- (0 at k = 0, 1 at k = n), and least / greatest keep rounding from pushing a bound past the estimate k / n.
create or replace macro wilson_low(k, n, z2) as
    case when n is null or n = 0 then null when k = 0 then 0.0 else least(k / n, greatest(0.0,
        (k / n + z2 / (2 * n) - sqrt(z2) * sqrt((k / n) * (1 - k / n) / n + z2 / (4 * n * n))) / (1 + z2 / n))) end;

create or replace macro wilson_high(k, n, z2) as
    case when n is null or n = 0 then null when k = n then 1.0 else greatest(k / n, least(1.0,
        (k / n + z2 / (2 * n) + sqrt(z2) * sqrt((k / n) * (1 - k / n) / n + z2 / (4 * n * n))) / (1 + z2 / n))) end;
