"""The metric registry: one entry per metric with labels, one-line descriptions (RU/EN), unit and formula.

The in-app glossary and docs/metrics.md are generated from it (metrics/glossary.py). Each entry names where its
final value is computed (`where`: a CTE of a file under metrics/sql/, or a Python function); tests that check a
metric's value carry `@pytest.mark.covers("<name>", ...)`, and tests/architecture/test_metric_coverage.py fails for a metric no
test covers or a `where` that names no such block. Units: count, fraction, money, days, score; categorical
outputs (a band, a flag) use `label`.
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS = ("count", "fraction", "money", "days", "score", "label")
SQL_DIR = "metrics/sql"
FINAL_SELECT = "select"  # the block of a SQL file's closing select (after its last CTE)


@dataclass(frozen=True)
class Where:
    """Where a metric's final value is computed: a repository path and the block in it (a CTE or a function)."""

    path: str  # from the repository root: metrics/sql/kpis.sql, metrics/payback.py
    block: str  # a CTE name (FINAL_SELECT for the closing select) of a .sql file, a function name of a .py file

    @property
    def kind(self) -> str:
        """sql or py."""
        return "sql" if self.path.endswith(".sql") else "py"

    def __str__(self) -> str:
        return f"{self.path.rsplit('/', 1)[-1]}#{self.block}" if self.kind == "sql" else f"{self.path}::{self.block}"


def sql(file: str, cte: str) -> Where:
    """A CTE of a file under metrics/sql/ (the CTE whose select computes the metric from its inputs)."""
    return Where(f"{SQL_DIR}/{file}", cte)


def py(path: str, function: str) -> Where:
    """A function of a Python module, by the module's repository path."""
    return Where(path, function)


@dataclass(frozen=True)
class Metric:
    """One metric as users see it, and where it is computed."""

    name: str
    label_ru: str
    label_en: str
    description_ru: str
    description_en: str
    unit: str
    formula: str
    where: Where
    higher_is_better: bool = True


def _m(name: str, label_ru: str, label_en: str, unit: str, formula: str, ru: str, en: str,
       higher_is_better: bool = True, *, where: Where) -> Metric:
    return Metric(name, label_ru, label_en, ru, en, unit, formula, where, higher_is_better)


# `where` names the block whose select computes the metric from its inputs: `grouped` of kpis.sql only adds up
# the families' partial rows, so a count or a sum names the CTE that aggregates the fact rows (lead_agg,
# deal_agg; _costs.sql for the costs' parts), a ratio or a bound the CTE that divides (measured, rated, kpi_rows).


_ENTRIES = [
    _m("leads", "Лиды", "Leads", "count", "count of leads created in the period (deleted leads never count)",
       "Сколько заявок пришло за период по выбранным фильтрам.",
       "How many leads came in during the period for the chosen filters.", where=sql("kpis.sql", "lead_agg")),
    _m("qualified_leads", "Квалифицированные лиды", "Qualified leads", "count",
       "leads that are won or ever reached the pipeline's qualification stage or a later one",
       "Заявки, которые дошли до этапа квалификации (или дальше) хотя бы раз, включая выигранные.",
       "Leads that got at least as far as the qualification stage at some point, won leads included.",
       where=sql("kpis.sql", "lead_agg")),
    _m("won_deals", "Сделки", "Won deals", "count",
       "won leads of the period (cohort view) or won leads closed in the period (close-date view)",
       "Сколько сделок выиграно: из заявок периода или, в режиме «по дате закрытия», закрытых в периоде.",
       "How many deals were won: from the period's leads, or closed in the period in close-date view.",
       where=sql("kpis.sql", "deal_agg")),
    _m("conversion", "Конверсия", "Conversion", "fraction", "won leads of the period / leads",
       "Какая доля заявок периода превратилась в выигранную сделку.",
       "What share of the period's leads turned into a won deal.", where=sql("kpis.sql", "measured")),
    _m("conversion_low", "Конверсия, нижняя граница", "Conversion, lower bound", "fraction",
       "Wilson 95 % interval, lower end, of won leads / leads",
       "Осторожная оценка конверсии: с вероятностью 95 % настоящая конверсия не ниже.",
       "A cautious conversion: with 95 % confidence the true conversion is at least this.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("conversion_high", "Конверсия, верхняя граница", "Conversion, upper bound", "fraction",
       "Wilson 95 % interval, upper end, of won leads / leads",
       "Оптимистичная оценка конверсии: с вероятностью 95 % настоящая конверсия не выше.",
       "An optimistic conversion: with 95 % confidence the true conversion is at most this.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("win_rate_closed", "Доля выигранных среди закрытых", "Win rate of closed", "fraction",
       "won / (won + lost) among the leads closed in the period (close-date view)",
       "В режиме «по дате закрытия»: какая доля заявок, закрытых за период, закрыта успешно.",
       "In close-date view: what share of the leads closed in the period were won.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("win_rate_closed_low", "Доля выигранных среди закрытых, нижняя граница", "Win rate of closed, lower bound",
       "fraction", "Wilson 95 % interval, lower end, of won / (won + lost) closed in the period",
       "Осторожная оценка доли выигранных среди закрытых: с вероятностью 95 % она не ниже.",
       "A cautious win rate of closed leads: with 95 % confidence it is at least this.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("win_rate_closed_high", "Доля выигранных среди закрытых, верхняя граница", "Win rate of closed, upper bound",
       "fraction", "Wilson 95 % interval, upper end, of won / (won + lost) closed in the period",
       "Оптимистичная оценка доли выигранных среди закрытых: с вероятностью 95 % она не выше.",
       "An optimistic win rate of closed leads: with 95 % confidence it is at most this.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("lead_to_qualified", "Лид → квалифицирован", "Lead → qualified", "fraction", "qualified_leads / leads",
       "Какая доля заявок дошла до квалификации.", "What share of leads reached qualification.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("qualified_to_won", "Квалифицирован → сделка", "Qualified → won", "fraction",
       "won leads of the period / qualified_leads",
       "Какая доля квалифицированных заявок стала выигранной сделкой.",
       "What share of qualified leads became won deals.", where=sql("kpis.sql", "kpi_rows")),
    _m("revenue", "Выручка", "Revenue", "money", "Σ amount of the won deals",
       "Сумма выигранных сделок.", "The money of the won deals.", where=sql("kpis.sql", "deal_agg")),
    _m("avg_check", "Средний чек", "Average check", "money", "revenue / won_deals",
       "Сколько в среднем приносит одна выигранная сделка.", "What one won deal brings on average.",
       where=sql("kpis.sql", "measured")),
    _m("revenue_share", "Доля выручки", "Revenue share", "fraction",
       "revenue of the group / revenue of all leads (direct included), same period and pipelines",
       "Какую часть всей выручки компании за период принесла эта группа.",
       "What part of the company's whole revenue in the period this group brought.",
       where=sql("kpis.sql", "measured")),
    _m("costs", "Затраты", "Costs", "money", "ledger share of the period + computed commissions",
       "Во сколько обошлась группа: записи журнала затрат за период плюс начисленные по правилам комиссии.",
       "What the group cost: cost-ledger entries for the period plus commissions computed by the rules.",
       higher_is_better=False, where=sql("kpis.sql", "measured")),
    _m("costs_ledger", "Затраты по журналу", "Ledger costs", "money",
       "Σ month amount × days of the period in that month / days of the month",
       "Затраты из журнала; месячная сумма делится на дни месяца, период берёт свои дни.",
       "Costs from the ledger; a month's amount is spread over its days and the period takes its days.",
       higher_is_better=False, where=sql("_costs.sql", "ledger_costs")),
    _m("costs_commission", "Начисленные комиссии", "Computed commissions", "money",
       "Σ rule rewards: % of revenue (monthly tiers), fixed per won deal, fixed per qualified lead",
       "Комиссии, рассчитанные по правилам вознаграждения из сделок и заявок периода.",
       "Commissions worked out by the reward rules from the period's deals and leads.",
       higher_is_better=False, where=sql("_costs.sql", "rule_hits")),
    _m("income", "Доход", "Income", "money", "revenue × gross margin (model's, else account's), else revenue",
       "Выручка, а если задана маржинальность — выручка, умноженная на маржу.",
       "Revenue, or revenue times the gross margin when a margin is set.", where=sql("kpis.sql", "deal_agg")),
    _m("profit", "Прибыль", "Profit", "money", "income − costs",
       "Сколько осталось после всех затрат.", "What is left after all costs.", where=sql("kpis.sql", "kpi_rows")),
    _m("roi", "ROI", "ROI", "fraction", "(income − costs) / costs; empty when costs = 0",
       "Сколько прибыли приносит каждый вложенный рубль (1,5 = 150 %). Без затрат не считается.",
       "How much profit each unit of money spent returns (1.5 = 150 %). Not shown without costs.",
       where=sql("kpis.sql", "rated")),
    # credit and incrementality (metrics-spec): a pre-existing client's deal is credited to the partner, not caused
    _m("preexisting_deals", "Сделки прежних клиентов", "Pre-existing clients' deals", "count",
       "won deals in scope whose lead is pre-existing: its client (same contact or company, a contact with the same "
       "normalised phone or e-mail, a company with the same INN) had an open, won or direct lead in the "
       "preexisting_window_days (default 180) before the lead was created",
       "Сделки партнёра с клиентами, которые уже были нашими: за 180 дней до его заявки у клиента была открытая, "
       "выигранная или прямая заявка.",
       "The partner's deals with clients who were ours already: in the 180 days before its lead the client had an "
       "open, won or direct lead.", higher_is_better=False, where=sql("kpis.sql", "deal_agg")),
    _m("incremental_revenue", "Приростная выручка", "Incremental revenue", "money",
       "revenue of the won deals whose lead is not pre-existing",
       "Выручка сделок, которых без партнёра, скорее всего, не было бы: без клиентов, уже приходивших к нам.",
       "Revenue of the deals we would probably not have had without the partner: clients who were ours already "
       "left out.", where=sql("kpis.sql", "rated")),
    _m("preexisting_share", "Доля прежних клиентов", "Pre-existing share", "fraction",
       "pre-existing deals' revenue / revenue",
       "Какая часть зачтённой партнёру выручки пришла от клиентов, которые уже были нашими.",
       "How much of the revenue credited to the partner came from clients who were ours already.",
       higher_is_better=False, where=sql("kpis.sql", "rated")),
    _m("incremental_roi", "Приростный ROI", "Incremental ROI", "fraction",
       "(income of the deals not pre-existing − costs) / costs; costs include the commissions on every deal; "
       "empty when costs = 0",
       "ROI без клиентов, которые и так были нашими: сколько партнёр действительно принёс на каждый рубль затрат.",
       "ROI without the clients who were ours anyway: what the partner really brought per unit of money spent.",
       where=sql("kpis.sql", "rated")),
    _m("incremental_roi_low", "Приростный ROI, нижняя граница", "Incremental ROI, lower bound", "fraction",
       "2.5th percentile of incremental ROI over bootstrap resamples (roi_low's rule, pre-existing deals' income 0)",
       "Осторожная оценка приростного ROI: с вероятностью 95 % он не ниже.",
       "A cautious incremental ROI: with 95 % confidence it is at least this.",
       where=py("metrics/incrementality.py", "incrementality")),
    _m("incremental_roi_high", "Приростный ROI, верхняя граница", "Incremental ROI, upper bound", "fraction",
       "97.5th percentile of incremental ROI over the same resamples",
       "Оптимистичная оценка приростного ROI: с вероятностью 95 % он не выше.",
       "An optimistic incremental ROI: with 95 % confidence it is at most this.",
       where=py("metrics/incrementality.py", "incrementality")),
    _m("roi_low", "ROI, нижняя граница", "ROI, lower bound", "fraction",
       "2.5th percentile of ROI over bootstrap resamples of the group's leads and deals",
       "Осторожная оценка ROI с учётом случайности: с вероятностью 95 % ROI не ниже.",
       "A cautious ROI that allows for chance: with 95 % confidence ROI is at least this.",
       where=py("metrics/stats.py", "roi_bootstrap")),
    _m("roi_high", "ROI, верхняя граница", "ROI, upper bound", "fraction",
       "97.5th percentile of ROI over bootstrap resamples of the group's leads and deals",
       "Оптимистичная оценка ROI: с вероятностью 95 % ROI не выше.",
       "An optimistic ROI: with 95 % confidence ROI is at most this.", where=py("metrics/stats.py", "roi_bootstrap")),
    _m("roi_band", "Оценка ROI", "ROI band", "label",
       "excellent ≥ 2; profitable ≥ 0.5; marginal ≥ 0; loss < 0; n/a without costs",
       "Словесная оценка окупаемости: очень эффективна, прибыльна, на грани, убыточна.",
       "Payback in words: very effective, profitable, break-even, loss-making.", where=sql("kpis.sql", "kpi_rows")),
    _m("new_clients", "Новые клиенты", "New clients", "count",
       "distinct clients (main contact, else company, else the other contact with the lowest id, else the lead) "
       "of the won deals",
       "Сколько разных клиентов стоит за выигранными сделками.",
       "How many different customers are behind the won deals.", where=sql("kpis.sql", "grouped")),
    _m("cpa", "CPA", "CPA", "money", "costs / new_clients",
       "Сколько стоило привлечь одного клиента.", "What it cost to win one customer.",
       higher_is_better=False, where=sql("kpis.sql", "rated")),
    _m("purchases_per_client", "Покупок на клиента", "Purchases per client", "count",
       "all won deals of those clients to date (any partner or direct, before or after the period) / new_clients",
       "Сколько раз в среднем эти клиенты у нас покупали — за всё время по сей день, через кого угодно.",
       "How many times these customers have bought from us on average to date, through anyone.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("ltv", "LTV", "LTV", "money",
       "lifetime revenue of those clients to date / new_clients − cpa",
       "Сколько клиент принёс за всё время по сей день минус цена его привлечения.",
       "What a customer brings over time minus what it cost to win them.", where=sql("kpis.sql", "kpi_rows")),
    _m("time_to_close_days", "Срок сделки, дней", "Days to close", "days",
       "median of (closed_at − created_at) over the won deals, in days",
       "За сколько дней обычно закрывается выигранная сделка (медиана).",
       "How many days a won deal usually takes to close (median).", higher_is_better=False,
       where=sql("kpis.sql", "close_agg")),
    _m("too_few", "Мало лидов", "Too few leads", "label", "leads < min_leads setting (default 30)",
       "Отметка, что заявок слишком мало для выводов; такие группы не выделяются как лучшие или худшие.",
       "A flag that there are too few leads to judge; such groups are never marked best or worst.",
       where=sql("kpis.sql", "kpi_rows")),
    _m("quality_score", "Качество лида", "Lead quality", "score",
       "mean of 25·has phone + 25·has e-mail + 50·qualified (weights are settings)",
       "Средний балл заявок 0–100: телефон, e-mail и квалификация, веса настраиваются.",
       "The leads' average 0–100 score from phone, e-mail and qualification, with adjustable weights.",
       where=sql("quality.sql", FINAL_SELECT)),
    _m("phone_share", "С телефоном", "With a phone", "fraction", "leads with a contact phone / leads",
       "Доля заявок, у контакта которых есть телефон.", "Share of leads whose contact has a phone.",
       where=sql("quality.sql", "grouped")),
    _m("email_share", "С e-mail", "With an e-mail", "fraction", "leads with a contact e-mail / leads",
       "Доля заявок, у контакта которых есть e-mail.", "Share of leads whose contact has an e-mail.",
       where=sql("quality.sql", "grouped")),
    _m("junk_share", "Доля мусора", "Junk share", "fraction",
       "leads lost with a reason from the junk list (default Спам, Дубль, Нецелевой) / leads",
       "Доля заявок, закрытых как спам, дубль или нецелевые.",
       "Share of leads closed as spam, duplicates or off-target.", higher_is_better=False,
       where=sql("quality.sql", "grouped")),
    _m("funnel_share", "Дошли до этапа", "Reached the stage", "fraction",
       "leads whose furthest stage (history or current) is this one or later / leads of the pipeline",
       "Какая доля заявок воронки дошла до этого этапа.", "What share of the pipeline's leads got to this stage.",
       where=sql("funnel.sql", FINAL_SELECT)),
    _m("step_share", "Переход с прошлого этапа", "From the previous stage", "fraction",
       "leads that reached this stage / leads that reached the previous stage",
       "Какая доля дошедших до прошлого этапа дошла и до этого.",
       "Of the leads that got to the previous stage, what share got to this one.",
       where=sql("funnel.sql", FINAL_SELECT)),
    _m("win_rate", "Доля выигранных", "Win rate", "fraction", "won leads of the period / leads, per segment",
       "Конверсия сегмента (модель, все партнёры, прямые) для сравнения с прямыми продажами.",
       "A segment's conversion (a model, all partners, direct) to compare with direct sales.",
       where=py("metrics/views.py", "partner_vs_direct")),
    _m("breakeven_commission_rate", "Безубыточная ставка", "Break-even rate", "fraction",
       "(income − costs other than % commissions) / revenue",
       "Процент от выручки, при котором вознаграждение партнёра съедает всю прибыль (ROI = 0).",
       "The percent of revenue at which a partner's reward eats all the profit (ROI = 0).",
       higher_is_better=True, where=py("metrics/sensitivity.py", "breakeven_commission_rate")),
    # partial pooling of small partners and payback of acquisition cohorts (metrics.pooling, metrics.payback)
    _m("conversion_pooled", "Конверсия (с учётом размера выборки)", "Conversion (adjusted for sample size)",
       "fraction", "(won + α) / (leads + α + β): beta-binomial empirical Bayes per model, k = α + β fitted",
       "Конверсия, подтянутая к средней по модели тем сильнее, чем меньше у партнёра лидов.",
       "Conversion pulled toward the model's average, the more so the fewer leads the partner has.",
       where=py("metrics/pooling.py", "posterior")),
    _m("conversion_pooled_low", "Конверсия с учётом выборки, нижняя граница",
       "Conversion adjusted for sample size, lower bound", "fraction",
       "2.5 % quantile of the posterior Beta(won + α, leads − won + β)",
       "Осторожная оценка с учётом размера выборки: по ней ранжируются партнёры «по нижней границе».",
       "The cautious sample-size-adjusted estimate: partners are ranked by it \"by the lower bound\".",
       where=py("metrics/pooling.py", "posterior")),
    _m("conversion_pooled_high", "Конверсия с учётом выборки, верхняя граница",
       "Conversion adjusted for sample size, upper bound", "fraction",
       "97.5 % quantile of the posterior Beta(won + α, leads − won + β)",
       "Оптимистичная оценка конверсии с учётом размера выборки.",
       "The optimistic sample-size-adjusted conversion.", where=py("metrics/pooling.py", "posterior")),
    _m("roi_pooled", "ROI (с учётом размера выборки)", "ROI (adjusted for sample size)", "fraction",
       "model ROI + w × (ROI − model ROI), w = leads / (leads + k_roi), k_roi = σ² / τ² (method of moments)",
       "ROI, подтянутый к ROI модели тем сильнее, чем меньше у партнёра лидов и чем шумнее его результат.",
       "ROI pulled toward the model's ROI, the more so the fewer leads and the noisier the partner's result.",
       where=py("metrics/pooling.py", "_pool_roi")),
    _m("roi_pooled_low", "ROI с учётом выборки, нижняя граница", "ROI adjusted for sample size, lower bound",
       "fraction", "roi_pooled − √w × (ROI − roi_low)",
       "Осторожная оценка ROI с учётом размера выборки.", "The cautious sample-size-adjusted ROI.",
       where=py("metrics/pooling.py", "_pool_roi")),
    _m("roi_pooled_high", "ROI с учётом выборки, верхняя граница", "ROI adjusted for sample size, upper bound",
       "fraction", "roi_pooled + √w × (roi_high − ROI)",
       "Оптимистичная оценка ROI с учётом размера выборки.", "The optimistic sample-size-adjusted ROI.",
       where=py("metrics/pooling.py", "_pool_roi")),
    _m("pool_weight", "Вес собственных данных", "Own-data weight", "fraction", "leads / (leads + k)",
       "Насколько оценка опирается на данные самого партнёра (1 — полностью), а не на среднюю по модели.",
       "How much the adjusted estimate rests on the partner's own data (1 = fully) rather than the model's average.",
       where=py("metrics/pooling.py", "posterior")),
    _m("payback_month", "Месяц окупаемости", "Payback month", "count",
       "first month since acquisition m with cumulative income − costs ≥ 0 for a cohort of leads created in one month",
       "Через сколько месяцев после прихода лидов их сделки окупили затраты на них (0 — в том же месяце).",
       "How many months after the leads came in their deals covered what they cost (0 = the same month).",
       where=py("metrics/payback.py", "_first_payback")),
    # partner lifecycle (metrics.lifecycle): milestones and the stage as of a day
    _m("days_to_first_lead", "Дней до первого лида", "Days to first lead", "days",
       "first lead's creation date − the partner's start date (else the day it was added); none when its leads "
       "predate it (found in the CRM through them)",
       "Сколько дней прошло от подключения партнёра до его первой заявки.",
       "How many days passed from the partner joining to its first lead.", higher_is_better=False,
       where=sql("lifecycle.sql", "stage_rule")),
    _m("days_to_first_deal", "Дней до первой сделки", "Days to first deal", "days",
       "first won deal's close date − recruited_on (the start date, else the day it was added, or its first "
       "lead when earlier)",
       "Сколько дней прошло от подключения партнёра до его первой выигранной сделки.",
       "How many days passed from the partner joining to its first won deal.", higher_is_better=False,
       where=sql("lifecycle.sql", "stage_rule")),
    _m("lifecycle_stage", "Этап жизненного цикла", "Lifecycle stage", "label",
       "recruited (no lead) · dormant (no lead in lifecycle_dormant_days, default 60) · first_lead (no won deal) · "
       "first_deal (first won deal within lifecycle_active_days, default 30) · active (a lead within "
       "lifecycle_active_days) · cooling (else)",
       "Где партнёр сейчас: подключён, первый лид, первая сделка, активен, остывает или уснул.",
       "Where the partner is now: recruited, first lead, first deal, active, cooling or dormant.",
       where=sql("lifecycle.sql", "stage_rule")),
]

METRICS: dict[str, Metric] = {m.name: m for m in _ENTRIES}


def get(name: str) -> Metric:
    """The registry entry of a metric (KeyError for an unknown name)."""
    return METRICS[name]
