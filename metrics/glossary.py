"""Glossary rows for the in-app glossary and the generated docs/metrics.md (`python -m metrics.glossary`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metrics import covers
from metrics.registry import FINAL_SELECT, METRICS, Metric, Where

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"
UNIT_NAMES = {
    "ru": {"count": "штуки", "fraction": "доля", "money": "деньги", "days": "дни", "score": "баллы 0–100",
           "label": "метка"},
    "en": {"count": "count", "fraction": "fraction", "money": "money", "days": "days", "score": "score 0–100",
           "label": "label"},
}
# How the in-app glossary says where a metric is computed (the column's title is presentation.i18n's).
WHERE_WORDS = {
    "ru": {"sql": "блок", "py": "функция", FINAL_SELECT: "итоговый select"},
    "en": {"sql": "block", "py": "function", FINAL_SELECT: "closing select"},
}

# Choices the spec leaves open, stated once for users (RU) and maintainers (EN).
CHOICES = """\
## How the numbers are computed (choices where the spec leaves room)

* **Dates and scope.** Every date is in the account's time zone; a period is `[from, to]`, both days included.
  Leads are the non-deleted leads created in the period that match the filters (partners, models incl. `direct`
  and `unassigned`, pipelines, sources — a source matches the UTM source or the amoCRM source name; grouping by
  source uses the UTM source, else the amoCRM source).
* **Cohort vs close-date view.** The view decides which won deals count: deals of the period's leads (cohort) or
  deals closed in the period whatever their creation date (close). It drives won deals, revenue, average check,
  income, new clients, CPA, LTV, time to close and commissions. Conversion, lead → qualified and qualified → won
  always describe the period's leads, so they stay true shares (in [0, 1]) in both views; in the close view the
  cards show instead `win_rate_closed` = won ÷ (won + lost) among the leads closed in the period, beside those
  two counts, so the ratio on screen recomputes from the counts beside it.
  When grouping by month / week / quarter, a lead counts in the bucket of its creation date and a deal in the
  bucket of its deal date (creation in the cohort view, close in the close view).
* **Ledger costs.** A month's amount is spread evenly over that month's days; a period (or a week / month
  bucket) takes the share of days it covers, so a whole month takes the whole amount. A partner's costs belong to
  its partner row and to its model; direct has no ledger.
* **Ledger costs under a pipeline or source filter / grouping.** The ledger is per partner, not per pipeline, so
  it is **allocated by lead share**: a partner's ledger costs for the period × (its leads of the period in that
  pipeline / source ÷ all its leads of the period). A partner with no leads in the period cannot be allocated:
  under a pipeline / source filter its ledger costs are left out; when grouping by pipeline / source without
  such a filter they appear in a row with an empty pipeline / source, so rows still add up to the total.
* **Commission rules.** Kinds: `percent_revenue` (rate = fraction of deal revenue), `fixed_per_deal` (money per won
  deal, dated by the deal's close date) and `fixed_per_qualified_lead` (money per qualified lead, dated by the
  lead's creation date). A `percent_revenue` reward is also dated by close. A rule counts on the days between its
  `valid_from` and `valid_to` (both included, open when empty). Rules belong to a model; **on any day a partner
  has at least one rule of its own in force, its own rules replace all of its model's rules** (on other days the
  model's rules apply). Several rules in force on the same day all apply (they add up). No rule → no computed
  commission. Direct leads never earn commission.
* **Tiers.** A `percent_revenue` rule with tiers `[{"up_to": 1000000, "rate": 0.10}, {"up_to": null, "rate":
  0.15}]` applies to the partner's revenue **per calendar month of the close date**, in one of two kinds chosen per
  rule (`tier_kind`): `marginal`, the default, like tax brackets — the first 1 000 000 at 10 %, the rest at 15 %;
  revenue above the last finite `up_to` takes the last tier's rate — or `whole`: the highest band the month's
  revenue reaches sets the rate of all of it (1 200 000 → 15 % of 1 200 000; exactly 1 000 000 stays at 10 %).
  The month's base is every won deal of that partner closed that month while the rule applies, whatever the
  dashboard's filters; each deal in scope then carries the month's effective rate (commission ÷ base), so a
  filtered view shows its fair part of the month's commission.
* **Income.** Revenue, or revenue × gross margin when the `margin` setting gives one (the model's margin, else the
  account's); `income_basis` says which.
* **ROI.** `(income − costs) / costs`, empty when costs are 0 (never infinite). Bands: excellent ≥ 2, profitable
  ≥ 0.5, marginal ≥ 0, loss < 0, n/a when empty.
* **Clients, CPA, LTV.** The client of a won deal is its main contact, else its company, else its other contact
  with the lowest id, else the lead itself (a company buying through different non-main contacts is one client).
  Purchases per client and LTV count every won deal of those clients to date — the data's as-of date, any
  partner or direct, before or after the period end.
* **Revenue share.** The group's revenue ÷ revenue of all leads (direct included) in the same period, pipelines
  filter, and — when grouping by pipeline or time — the same pipeline / bucket.
* **Honest comparison.** Conversion carries a Wilson 95 % interval. ROI carries a seeded percentile bootstrap
  interval that resamples the group's leads and deals (each with its income and commission; ledger costs fixed);
  above 400 contributing leads/deals the resampled sums are drawn from their exact bootstrap mean and covariance.
  Groups with fewer leads than the `min_leads` setting (default 30) are flagged `too_few` and are never marked
  best or worst; ranking can use the cautious interval bound instead of the point value.
* **Small partners are shrunk** (`metrics.pooling`). Beside the raw value, each partner's conversion and ROI carry
  an estimate pulled toward its model's average with weight n / (n + k) (n = its leads). Conversion
  (beta-binomial empirical Bayes): the prior mean is the model's pooled conversion, itself shrunk toward all
  partners' by the same fit one level up over the models' totals (a model of a few leads does not set its own
  average); k = α + β maximises the marginal likelihood of the model's partners (a model with fewer than 5
  partners shares one k fitted on the partners of models with two or more, else on all partners), widened by the
  mean's own uncertainty (1 / (k + 1) + 1 / (leads behind the mean + 1)); pooled = (won + α) / (leads + α + β),
  interval = the posterior Beta's 2.5 % / 97.5 % quantiles. ROI: σ² = the median over the model's partners of
  leads × (bootstrap half width ÷ 1.96)², τ² = the raw ROIs' spread around the model's ROI less the mean sampling
  variance σ² / leads (method of moments), k_roi = σ² / τ²; pooled = model ROI + w × (ROI − model ROI) and each
  bound √w × its raw half width from it (a missing or zero-width interval takes σ² / leads). k and k_roi lie
  between 0.5 and the mean leads per partner (no spread beyond chance → the cap, so a partner of average size keeps
  half its own estimate). A frame with fewer than two partners, or all at 0 % (or 100 %), is not pooled (pooled =
  raw, weight 1); a model whose ROI cannot be fitted borrows all partners' ROI fit; direct is never pooled.
  "Rank by the lower bound" ranks conversion and ROI by the pooled bound.
* **Payback month** (`metrics.payback`, `python -m metrics payback`). A cohort = the leads of one partner or one
  model's partners created in one calendar month (the last 12 months of the period). For each month since
  acquisition m = 0 … its age (months from its month to the data's as-of month: the latest lead creation or deal
  close): income of its won deals closed by then − commissions the rules give for them (a won deal's in its close
  month, a qualified lead's in the cohort's month) − the ledger of the cohort's month (at m = 0; the period's share
  of it when the period cuts the month). Payback month = the first m with costs so far and cumulative ≥ 0.
  Otherwise: **no costs** when nothing was spent; **too young** when the cohort's age is below the series' typical
  payback (the median payback month of its paid-back cohorts, rounded up; 1 when none has paid back yet);
  **not yet** at or beyond that age.
* **Credit and incrementality** (`metrics.incrementality`, `python -m metrics incrementality`). A partner lead is
  *pre-existing* when its client — a contact or company of the lead, a contact with the same normalised phone or
  e-mail, a company with the same INN (`data_layer.identity`; the INN field by name, setting `inn_field_name`,
  default «ИНН») — had another lead in the `preexisting_window_days` (default 180) before the lead was created that
  was won, or direct, or open at that moment. Computed once per facts rebuild (`fact_preexisting` of
  data_layer/derived.sql, with the earlier lead and how the client matched; `fact_won_deals.preexisting`). Its won
  deal is credited (revenue, ROI and commissions unchanged) but not incremental: `incremental_revenue` leaves it
  out, `incremental_roi` counts its income as 0 and keeps every cost; its interval is ROI's bootstrap with the same
  rule (`roi_units.sql`, input `incremental`).
* **Settings read in one place** (`metrics.costs.load_settings`): `min_leads`, `margin`, `junk_reasons`,
  `quality_weights`, `lifecycle_active_days` / `lifecycle_dormant_days` (30 / 60: the lifecycle stages of
  lifecycle.sql's `stage_rule`). Junk is evaluated at query time with the current junk list.
* **Speed.** Metric queries read the fact tables derived from `lead_facts` at every rebuild
  (`data_layer/derived.sql`: `fact_won_deals`, `fact_partner_days`, `fact_revenue_days`, `fact_lead_days*`,
  `fact_lost_days`, `fact_lead_stage`, `fact_stage_days`) and the user tables; `lead_facts` itself only where a
  filter or grouping needs the leads one by one (a source filter, lead lists). The commission-rule structure and
  the tiers' monthly rates are computed once per fingerprint of their inputs (`rule_inputs_key.sql`) and bound as
  small tables. Group keys are the whitelisted expressions of `_keys.sql` (the queries are Jinja2 templates whose choices are
  visible `{% if %}` blocks) so each grouping plans with plain columns; values are always bound parameters. See
  docs/architecture.md and docs/sql.md (`python -m metrics.sql show` prints what a page runs).
"""


# Young cohorts (metrics.maturity), for users (RU) and maintainers (EN).
MATURITY = """\
## Young cohorts: maturing and incomplete periods

In the cohort view a period's leads keep turning into won deals after the period ends, so the last months look
worse than they will be. / В когортном виде лиды периода продолжают превращаться в сделки и после его конца,
поэтому последние месяцы выглядят хуже, чем окажутся.

![Time-to-close curve of the demo account](img/maturity-curve.png)

* **Time-to-close curve** (`close_curve.sql`): for the won deals created in the 24 months before the data's as-of
  date (the last day a lead was created or a won deal closed), the share closed within d days of creation, d = 0 …
  730, per pipeline (from 30 won deals; otherwise the all-pipelines curve) and for all pipelines. A young deal is
  seen only if it closed fast, so a plain cumulative share would call young cohorts mature too early: the share is
  the Lynden-Bell estimate for such right-truncated data, F(d) = Π over s > d of (1 − closes on day s ÷ deals at
  risk on day s), at risk = closed by day s and created at least s days before the as-of date (with only old deals
  it is the plain cumulative share). Computed once per data version (a fingerprint of the won deals).
* **`maturity`** of a period (or of a row of a grouped frame): the mean over its leads of curve(as-of date −
  creation date), each lead on its pipeline's curve — the share of its eventual won deals expected to have closed.
  **`maturing`** = maturity below the `maturity_threshold` setting (default 0.9). The close-date view is never
  maturing (its `maturity` is empty). / «Созревает: сделки ещё закрываются» — период, у которого закрылось меньше
  90 % ожидаемых сделок.
* **`incomplete`**: the period ends on or after today (account time zone) or on or after the as-of date — the
  current calendar period, in both views. / «Текущий месяц не закончен».
* **Projection at maturity** (maturing rows only): `projected_won_deals` = won so far ÷ maturity; its 80 %
  interval `_low` / `_high` = won so far + the 10th / 90th percentile of the deals still to close, which are
  Poisson with an unknown rate (Jeffreys prior): negative binomial with r = won + ½, p = maturity (normal
  approximation beyond 200 expected deals). `projected_revenue` = revenue so far ÷ maturity, its interval the
  deals' interval at the average check so far (none before a first deal: deal size unknown).
  `projected_conversion` = projected deals ÷ leads (leads do not mature). `projected_roi`: income and computed
  commissions grow with the deals, ledger costs stay. The interval counts the uncertainty of how many deals are
  still to come, not of their size nor of the curve itself.
* **Where young periods are left out.** Anomaly bands (`metrics.changes.flag`) give maturing and incomplete
  periods no verdict and never use them as history; trend arrows (`changes.trend`) use the other periods only;
  "since last week" movers and ROI band changes (overview, weekly report: `maturity.settled`) leave out the
  partners maturing in either compared window; the weekly report gives a maturing week no anomaly verdict. Charts
  draw maturing periods dashed (bars pale) with the projection and its interval, the current period dotted.

"""


# Events on the charts and their before / after (metrics.events), for users (RU) and maintainers (EN).
EVENTS = """\
## Events on the charts: before / after

Vertical dashed rules on the trends, overview and partner charts (and the PDF's revenue-and-costs chart) mark
events. / Пунктирные вертикали на графиках — события.

* **Programme events** (`metrics.events`, read-only SQL `events_rule_changes.sql`, `events_ledger_first.sql`):
  every change of the commission rules the audit log recorded — a rule added, changed (each changed field, before →
  after) or deleted (named by its last recorded state), a what-if scenario applied with rules — on the day of its
  audit row (as the log stores it); and each cost category's first month with a non-zero amount in the ledger of
  the chart's scope, unless the scope's ledger starts that month (where the records begin is not an event).
* **User events** (`user_events`, migration 0013): a day, a title (1–80 characters) and a scope: the whole
  programme, a model or a partner. Added and deleted by editors under the trends chart (audit log).
* **Scope.** A chart of the whole programme shows programme-wide and model events; a chart filtered to models
  shows programme-wide events and those models'; a partner's chart (or a chart with that partner in its filter or
  its series) shows programme-wide events, its model's and its own. A rule change is scoped to its model or
  partner, a scenario to the whole programme.
* **Before / after** (`events.before_after`): for each series of the chart, the mean of the N = 3 periods before
  the event against the N after it. The period that holds the event belongs to neither side (unless the event is
  on its first day: then it is the first period after). Maturing and incomplete periods never count
  (`maturity.mature`), so the nearest settled periods are used. The difference after − before carries a Welch 95 %
  interval: se² = s²_b / n_b + s²_a / n_a, degrees of freedom by Welch–Satterthwaite, half-width
  t(0.975, df) · se (`metrics.stats.welch_interval`). With fewer than 2 settled periods on a side the tooltip says
  there are too few periods to tell, and gives no difference. / Среднее за 3 периода до и после события и разница с
  95 % интервалом Уэлча; если с какой-то стороны меньше двух завершённых и созревших периодов — «мало периодов».
  The periods are consecutive months (or weeks) of one series, not independent samples, and an event is rarely the
  only change: read the interval as "how large the change is next to the usual month-to-month spread", not as proof
  that the event caused it.

"""


API = """\
## API (`metrics.engine`; `con` = DuckDB connection, `f` = `metrics.filters.Filters`)

| function | returns |
| --- | --- |
| `kpis(con, f, by="none", scenario=None)` | one row per group; `by` ∈ none, partner, model, month, week, quarter, pipeline, source. Keys: `partner_id, partner, model` / `model` / `period` / `pipeline_id, pipeline` / `source`; metrics: every registry metric of a group (the `win_rate_closed` ones and their counts `won_closed`, `lost_closed` in the close view only) plus `income_basis`, `costs_ledger`, `costs_commission`, `cost_<ledger category>` |
| `grouped(con, f, by=("month", "model"), scenario=None)` | as `kpis`, grouped by several keys at once (one time unit at most) |
| `costs_by_category(con, f, by="none", scenario=None)` | long: keys, `category` (commission, bonus, marketing, training, support, other, computed_commission), `amount` |
| `commission_details(con, f, scenario=None)` | per partner × rule: `rule_scope` (partner / model), `kind`, `rate`, `tiers`, `tier_kind` (marginal / whole; empty without tiers), `events`, `revenue`, `base`, `effective_rate`, `amount` |
| `monthly(con, f, by="none", scenario=None)` | per month (× key): leads, won_deals, revenue, income, costs, costs_ledger, costs_commission, profit, roi, roi_band |
| `funnel(con, f)` | per pipeline × stage: `reached`, `leads`, `share`, `step_share` |
| `quality(con, f, by="partner")` | keys, leads, `quality_score`, `phone_share`, `email_share`, `qualified_share`, `junk_share`, `lead_to_qualified`, `too_few` |
| `partner_vs_direct(con, f)` | per segment (each model, partners, direct): win rate + Wilson bounds, avg check, days to close, `_diff` / `_rel` vs direct |
| `deltas(con, f, by="none", scenario=None)` | long: keys, `metric`, `current`, `previous` (`f.previous()`), `change`, `change_rel` |
| `deals(con, f, partner_id, won_only=True)` | a partner's (None = direct) won deals in scope, or every lead too, with `commission` |
| `rank(df, metric, by_lower_bound=False)` | df + `rank`, `highlight` (best / worst); too_few rows and direct never ranked |
| `roi_interval(con, f, by="partner", n_boot=1000, seed=0)` | keys, `units`, `roi`, `roi_low`, `roi_high`, `method` |
| `kpis_with_roi(con, f, by="partner", n_boot=1000, seed=0)` | `(kpis(f, by), roi_interval(f, by))` computed side by side (`together`): the partners leaderboard |
| `together(con, calls)` | results of several `Call.of(fn, *args, **kwargs)` (a frozen `Call(fn, args, kwargs)` holding the function) of kpis_many, kpis, grouped, roi_interval, deals, funnel, quality, partner_vs_direct, payback, run on `con` and a cursor of it at once (a page's independent queries on two cores) |
| `revenue_total(con, f)` | revenue of the won deals in scope |
| `breakeven_commission_rate(con, f, partner_id)` / `roi_sensitivity(con, f, partner_ids, rates)` | % of revenue at which ROI = 0 / ROI per partner and rate |

What-if: `metrics.costs.Scenario(ledger=DataFrame, rules=DataFrame, margin=dict)` replaces the ledger, the
rules or the margin for one call; the SQL reads both through the same bound relations as actuals.
"""


def where_text(where: Where, lang: str = "ru") -> str:
    """Where a metric is computed, in words: `metrics/sql/kpis.sql, block rated`."""
    words = WHERE_WORDS["en" if lang == "en" else "ru"]
    if where.block == FINAL_SELECT and where.kind == "sql":
        return f"{where.path}, {words[FINAL_SELECT]}"
    return f"{where.path}, {words[where.kind]} {where.block}"


def rows(lang: str = "ru") -> list[dict[str, str]]:
    """Glossary rows in a language: name, label, description, unit, formula, where (the block that computes it)."""
    lang = lang if lang in UNIT_NAMES else "ru"
    return [{"name": m.name, "label": getattr(m, f"label_{lang}"), "description": getattr(m, f"description_{lang}"),
             "unit": UNIT_NAMES[lang][m.unit], "formula": m.formula, "where": where_text(m.where, lang)}
            for m in METRICS.values()]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _where_link(where: Where) -> str:
    """A link from docs/ to the file that computes a metric, named file#CTE (SQL) or module::function."""
    return f"[`{where}`](../{where.path})"


def _table(entries: list[Metric]) -> list[str]:
    lines = ["| metric | label (RU / EN) | unit | formula | computed in | what it tells (RU / EN) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for m in entries:
        lines.append(f"| `{m.name}` | {_cell(m.label_ru)} / {_cell(m.label_en)} | {m.unit} | {_cell(m.formula)} | "
                     f"{_where_link(m.where)} | {_cell(m.description_ru)}<br>{_cell(m.description_en)} |")
    return lines


def tests_section(found: dict[str, list[str]] | None = None) -> str:
    """Each metric's covering tests (their `@pytest.mark.covers` marks, scanned from tests/)."""
    found = covers.scan() if found is None else found
    lines = ["## Where each metric is computed and tested", "",
             "`computed in` above names the SQL file and CTE (`#select`: the file's closing select) or the Python",
             "function whose code gives the metric's final value. The tests below check the metric's value; each",
             "carries `@pytest.mark.covers(\"<metric>\")`, and `tests/architecture/test_metric_coverage.py` fails when a metric has",
             "none.", ""]
    for m in METRICS.values():
        tests = ", ".join(f"`{t}`" for t in found.get(m.name, [])) or "none"
        lines.append(f"* `{m.name}` — {_where_link(m.where)}: {tests}")
    return "\n".join([*lines, ""])


class _FixedWidth(argparse.HelpFormatter):
    """Help text wrapped at 100 columns, as the glossary prints it."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=100)


def cli_section() -> str:
    """The `python -m metrics` commands with every option, taken from the CLI's own parser (never out of date)."""
    from metrics.__main__ import build_parser

    parser = build_parser()
    lines = ["## CLI (`python -m metrics`)", "",
             "Each command's options as `--help` prints them (generated from the parser):", ""]
    for action in parser._actions:  # argparse has no public accessor for the sub-commands' parsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                sub.formatter_class = _FixedWidth  # the same text whatever the terminal's width
                lines += [f"### `{name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def render_markdown() -> str:
    """The whole docs/metrics.md text."""
    head = ["# Metrics glossary", "",
            "Generated from `metrics/registry.py` by `python -m metrics.glossary` — do not edit by hand.",
            "Definitions follow the product contract (metrics-spec); the API is `metrics.engine`.", ""]
    return "\n".join([*head, *_table(list(METRICS.values())), "", tests_section(), CHOICES, MATURITY, EVENTS, API,
                      cli_section()])


def write(path: Path = DOC_PATH) -> Path:
    """Write docs/metrics.md."""
    path.write_text(render_markdown(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m metrics.glossary [PATH] [--check]`: write the glossary, or check that it is up to date."""
    parser = argparse.ArgumentParser(prog="python -m metrics.glossary",
                                     description="Write docs/metrics.md from the metric registry.")
    parser.add_argument("path", nargs="?", type=Path, default=DOC_PATH, help=f"target file (default {DOC_PATH})")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the file differs from what would be written")
    args = parser.parse_args(argv)
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != render_markdown():
            print(f"{args.path} is out of date: run `python -m metrics.glossary`.", file=sys.stderr)
            return 1
        return 0
    print(write(args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
