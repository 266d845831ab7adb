"""The header of every export: period, comparison, filters, deal view, data freshness and generation time.

``lines`` writes it for the view export, the weekly pack and the partner statement; the PDF prints it as its
key-value block, the XLSX as its cover sheet, the CSV as its first section and the weekly e-mail in its body.
Times are the account's (``presentation.freshness``: the very line the dashboard shows under its title), not the
server's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from metrics.filters import Filters
from presentation import fmt, periods
from presentation.freshness import account_tz, freshness_line, moment_text
from presentation.i18n import lookup
from reports.text import model_label, say

MAX_NAMES = 6
Lines = list[tuple[str, str]]


def _listing(items: list[str], lang: str) -> str:
    if not items:
        return say(lang, "all")
    more = len(items) - MAX_NAMES
    shown = ", ".join(items[:MAX_NAMES])
    return shown + (f" (+{more})" if more > 0 else "")


def filter_lines(f: Filters, partner_names: dict[int, str], pipeline_names: dict[int, str], lang: str) -> Lines:
    """Label/value lines of the narrowing filters (partners and pipelines by name) and the deal view."""
    partners = [partner_names.get(p, f"#{p}") for p in f.partners]
    pipelines = [pipeline_names.get(p, f"#{p}") for p in f.pipelines]
    return [
        (say(lang, "partners"), _listing(partners, lang)),
        (say(lang, "models"), _listing([model_label(m, lang) for m in f.models], lang)),
        (say(lang, "pipelines"), _listing(pipelines, lang)),
        (say(lang, "sources"), _listing(list(f.sources), lang)),
        view_line(f, lang),
    ]


def view_line(f: Filters, lang: str) -> tuple[str, str]:
    """How deals are counted: by lead creation date (cohort) or by close date."""
    return say(lang, "view"), say(lang, f"view.{f.view}")


def comparison_line(f: Filters, compare: str, lang: str) -> tuple[str, str]:
    """What the period is compared with, as the sidebar says it, and the comparison period's dates."""
    before = periods.comparison_of(f, compare)  # the sidebar's rule for the comparison period
    mode = compare if compare in periods.COMPARES else "previous"
    return (lookup(periods.TEXT, "compare", lang),
            f"{lookup(periods.TEXT, f'compare.{mode}', lang)} ({periods.period_text(before, lang)})")


def generated_text(when: datetime, fresh: dict[str, Any], lang: str) -> str:
    """When the file was made, in the account's time zone: 9 июн. 2025 г., 08:00."""
    return moment_text(when, account_tz(fresh), lang) or fmt.DASH


def lines(f: Filters, fresh: dict[str, Any], generated_at: datetime, lang: str, *, period: str | None = None,
          compare: str | None = None, partner_names: dict[int, str] | None = None,
          pipeline_names: dict[int, str] | None = None, narrowing: bool = True) -> Lines:
    """The export header: period (or its own text), comparison, filters (narrowing=False: the deal view only, for a
    file that must not name other partners), data freshness and generation time — both in the account's zone."""
    out: Lines = [(say(lang, "period"), period or periods.period_text(f, lang))]
    if compare is not None:
        out.append(comparison_line(f, compare, lang))
    if narrowing:
        out.extend(filter_lines(f, partner_names or {}, pipeline_names or {}, lang))
    else:
        out.append(view_line(f, lang))
    out.append((say(lang, "source"), freshness_line(fresh, lang)))
    out.append((say(lang, "generated"), generated_text(generated_at, fresh, lang)))
    return out


def plain_text(header: Lines) -> str:
    """The header as "label: value" lines (the weekly e-mail's body)."""
    return "\n".join(f"{label}: {value}" for label, value in header)
