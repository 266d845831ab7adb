"""The plan of a demo, fixed by (n_leads, seed, end_date): the time grid and each month's partner mix."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from data_layer.demo.account import TZ
from data_layer.demo.cast import NP, SPECS, PartnerSpec

MONTHS = 24
GEN_BLOCK = 50_000        # leads per generation block; fixed so that every path draws the same numbers


@dataclass
class Plan:
    """Everything fixed by (n_leads, seed, end_date): the time grid and the partner mix per month."""

    n: int
    seed: int
    end_date: date
    now_ts: int | None = None  # the build instant: nothing happens after it (None: the whole of end_date)
    start_date: date = field(init=False)
    start_ts: int = field(init=False)
    horizon_ts: int = field(init=False)      # exclusive end: the build instant, else midnight after end_date
    month_ts: np.ndarray = field(init=False)  # MONTHS + 1 boundaries
    grid_ts: np.ndarray = field(init=False)   # hourly edges
    grid_cdf: np.ndarray = field(init=False)
    partner_cum: np.ndarray = field(init=False)  # [MONTHS, NP + 1] cumulative partner probabilities
    active: np.ndarray = field(init=False)       # [MONTHS, NP + 1] partner works that month (direct always)

    def __post_init__(self) -> None:
        """Build the time grid and the partner mix."""
        self.start_date = add_months(self.end_date.replace(day=1), -(MONTHS - 1))
        self.start_ts = midnight_ts(self.start_date)
        midnight = midnight_ts(self.end_date + timedelta(days=1))
        self.horizon_ts = min(midnight, self.now_ts) if self.now_ts else midnight
        self.month_ts = np.array([midnight_ts(add_months(self.start_date, m)) for m in range(MONTHS)]
                                 + [self.horizon_ts], dtype=np.int64)
        self.grid_ts, self.grid_cdf = _cut_grid(*_time_grid(self.start_date, self.end_date), self.horizon_ts)
        self.partner_cum = np.cumsum(_partner_probs(self), axis=1)
        self.active = np.array([[True, *[_active(s, m) for s in SPECS]] for m in range(MONTHS)])

    @property
    def blocks(self) -> int:
        """Number of generation blocks."""
        return -(-self.n // GEN_BLOCK)

    def block_range(self, b: int) -> tuple[int, int]:
        """Numbers lo..hi (exclusive) of the leads in generation block b."""
        return b * GEN_BLOCK, min(self.n, (b + 1) * GEN_BLOCK)

    def month_of(self, ts: np.ndarray) -> np.ndarray:
        """Month index (0 = first month of the range) of Unix timestamps."""
        return np.clip(np.searchsorted(self.month_ts, ts, side="right") - 1, 0, MONTHS - 1)

    def expected_per_month(self) -> np.ndarray:
        """Expected number of leads created in each month."""
        return self.n * np.diff(np.interp(self.month_ts, self.grid_ts, self.grid_cdf))


def account_today() -> date:
    """Today in the account's time zone (the default end of the demo data)."""
    return datetime.now(TZ).date()


def midnight_ts(d: date) -> int:
    """Unix seconds of local midnight of a date in the account time zone."""
    return int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp())


def add_months(d: date, months: int) -> date:
    """First-of-month date shifted by a number of months."""
    k = d.year * 12 + d.month - 1 + months
    return date(k // 12, k % 12 + 1, 1)


SEASON = np.array([0.85, 1.0, 1.2, 1.05, 0.95, 0.85, 0.75, 0.78, 1.05, 1.1, 1.15, 1.3])  # Jan..Dec
WEEKDAY = np.array([1.1, 1.1, 1.05, 1.0, 0.95, 0.4, 0.3])  # Mon..Sun
HOURS = np.array([0.1] * 7 + [0.4, 1.0, 1.6, 1.8, 1.7, 1.3, 1.5, 1.6, 1.5, 1.3, 1.0, 0.7, 0.5, 0.4, 0.3, 0.2,
                                0.15])
HOLIDAYS = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}


def _time_grid(start: date, end: date) -> tuple[np.ndarray, np.ndarray]:
    """Hourly edges and the cumulative lead intensity: seasonality, a mild upward trend, weekdays, hours."""
    days = (end - start).days + 1
    dates = [start + timedelta(days=i) for i in range(days)]
    season = SEASON[[d.month - 1 for d in dates]]
    weekday = WEEKDAY[[d.weekday() for d in dates]]
    holiday = np.array([0.3 if (d.month, d.day) in HOLIDAYS else 1.0 for d in dates])
    trend = 1.0 + 0.3 * np.arange(days) / max(days - 1, 1)  # about +15 % a year
    weights = np.outer(season * weekday * holiday * trend, HOURS).ravel()
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    cdf /= cdf[-1]
    # Hour edges as real instants, so a DST zone would still be right (Moscow has none).
    day_ts = np.array([midnight_ts(d) for d in dates] + [midnight_ts(end + timedelta(days=1))],
                      dtype=np.int64)
    step = np.diff(day_ts)[:, None] / 24.0
    edges = (day_ts[:-1, None] + step * np.arange(24)).ravel()
    return np.concatenate([edges, [day_ts[-1]]]), cdf


def _cut_grid(edges: np.ndarray, cdf: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The intensity grid ending at horizon (a demo built at noon has no lead, close or event this afternoon)."""
    if horizon >= edges[-1]:
        return edges, cdf
    keep = edges < horizon
    share = float(np.interp(horizon, edges, cdf))
    return np.concatenate([edges[keep], [horizon]]), np.concatenate([cdf[keep], [share]]) / share


def build_plan(n_leads: int, seed: int, end_date: date | None) -> Plan:
    """The plan of a demo ending on end_date (whole day, reproducible), or, by default, now."""
    if end_date is not None:
        return Plan(n_leads, seed, end_date)
    return Plan(n_leads, seed, account_today(), now_ts=int(time.time()))


def _active(spec: PartnerSpec, m: int) -> bool:
    """Whether a partner sends leads in month m."""
    if spec.start_offset and m < MONTHS - spec.start_offset:
        return False
    return not (spec.end_offset and m >= MONTHS - spec.end_offset)


def _partner_probs(plan: Plan) -> np.ndarray:
    """Probability of each partner (column 0 = direct) for a lead created in each month."""
    expected = np.maximum(plan.expected_per_month(), 1.0)
    probs = np.zeros((MONTHS, NP + 1))
    for m in range(MONTHS):
        pos = m / (MONTHS - 1)
        direct = 0.44 - 0.08 * pos  # the partner programme grows over the range
        tiny = np.array([min(s.share / 12 / expected[m], 0.02) if s.tiny and _active(s, m) else 0.0
                         for s in SPECS])
        regular = np.array([0.0 if s.tiny or not _active(s, m)
                            else s.share * max(0.2, 1 + s.trend * (pos - 0.5)) for s in SPECS])
        probs[m, 0] = direct
        probs[m, 1:] = tiny + (1 - direct - tiny.sum()) * regular / regular.sum()
    return probs
