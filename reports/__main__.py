"""`python -m reports {weekly,statement,export,snapshot,alerts}`: build report files, optionally e-mail the weekly
pack; send the threshold alerts (reports.alert_send: exit 0 even when a channel failed, it is retried).

Exit codes: 0 done; 1 the report or the e-mail failed (files already written are kept); 2 bad arguments.
Messages are one sentence each, in --lang; the SMTP password is never printed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from data_layer import store, userdata
from metrics import lookups
from metrics.filters import FilterError, Filters
from reports import alert_send, mailer, snapshot
from reports.safe import redact

DEFAULT_OUT = Path("cache/reports")

TEXT = {
    "ru": {
        "wrote": "Записан файл {path}", "sent": "Письмо отправлено: {to}",
        "no_partner": "Партнёр «{name}» не найден: проверьте название (см. справочник партнёров в настройках).",
        "kept": "Файлы отчёта сохранены: {paths}", "failed": "Отчёт не построен: {reason}",
        "bad_date": "не дата (нужно ГГГГ-ММ-ДД): {text!r}",
    },
    "en": {
        "wrote": "Wrote {path}", "sent": "E-mail sent to {to}",
        "no_partner": "Partner \"{name}\" was not found: check the name (see the partner list in settings).",
        "kept": "The report files are kept: {paths}", "failed": "The report was not built: {reason}",
        "bad_date": "not a date (YYYY-MM-DD): {text!r}",
    },
}


class CliError(RuntimeError):
    """A failure to report as one sentence and exit 1."""


def say(lang: str, key: str, **kwargs: object) -> str:
    """A CLI message in RU or EN."""
    return TEXT["en" if lang == "en" else "ru"][key].format(**kwargs)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(say("en", "bad_date", text=text)) from None


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", type=Path, default=None, help="database file (default PARTNER_ROI_DB or "
                                                         "cache/partner_roi.duckdb)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default cache/reports/)")
    p.add_argument("--lang", choices=("ru", "en"), default="ru", help="report language (default ru)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with the weekly, statement and export sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("weekly", help="weekly meeting pack (PDF + XLSX), optionally e-mailed")
    _common(w)
    w.add_argument("--to-email", nargs="+", default=[], metavar="ADDR", help="send the pack to these addresses")
    w.add_argument("--week-ending", type=_date, default=None, help="last day of the week, YYYY-MM-DD "
                                                                   "(default: last completed Sunday)")
    w.add_argument("--view", choices=("close", "cohort"), default="close",
                   help="count deals by close date (default) or by lead creation date")
    s = sub.add_parser("statement", help="statement for one partner (PDF or XLSX)")
    _common(s)
    s.add_argument("--partner", required=True, help="partner name (or number)")
    s.add_argument("--from", dest="date_from", type=_date, required=True, help="first day, YYYY-MM-DD")
    s.add_argument("--to", dest="date_to", type=_date, required=True, help="last day, YYYY-MM-DD")
    s.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
    s.add_argument("--view", choices=("cohort", "close"), default="cohort")
    e = sub.add_parser("export", help="export the whole view of a period (CSV, XLSX or PDF)")
    _common(e)
    e.add_argument("--from", dest="date_from", type=_date, required=True, help="first day, YYYY-MM-DD")
    e.add_argument("--to", dest="date_to", type=_date, required=True, help="last day, YYYY-MM-DD")
    e.add_argument("--format", choices=("csv", "xlsx", "pdf"), default="xlsx")
    e.add_argument("--sep", choices=(";", ","), default=";", help="CSV separator (; = decimal comma)")
    e.add_argument("--view", choices=("cohort", "close"), default="cohort")
    snapshot.add_arguments(sub.add_parser("snapshot", help="BI / accounting hand-off: Parquet + CSV tables, "
                                                        "month-end payout list (XLSX)"))
    alert_send.add_arguments(sub.add_parser("alerts", help="judge the alert rules; send what started or cleared "
                                                          "and retry failed sends (--dry-run: print only)"))
    return parser


def _db(args: argparse.Namespace) -> Path:
    """The database to read, brought up to the current schema first (an older version's file)."""
    path = args.db or store.DEFAULT_DB
    store.upgrade(path)
    return path


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def run_weekly(args: argparse.Namespace) -> int:
    """Build the weekly pack, write it, and send it when addresses are given."""
    from reports import weekly

    with store.connect(_db(args), read_only=True) as con:
        pack = weekly.build_weekly(con, args.week_ending, view=args.view)
    paths = weekly.write_weekly(pack, args.out, args.lang)
    for path in paths:
        print(say(args.lang, "wrote", path=path))
    if not args.to_email:
        return 0
    subject, body = weekly.email_text(pack, args.lang)
    try:
        settings = mailer.load_settings(lang=args.lang)
        mailer.send(settings, args.to_email, subject, body, paths, lang=args.lang)
    except mailer.MailError as exc:
        print(redact(str(exc)), file=sys.stderr)
        print(say(args.lang, "kept", paths=", ".join(str(p) for p in paths)), file=sys.stderr)
        return 1
    print(say(args.lang, "sent", to=", ".join(args.to_email)))
    return 0


def find_partner(con: object, name: str, lang: str) -> int:
    """The partner_id for a name or alias (case-insensitive, ё = е) or a number; CliError when none."""
    if name.strip().isdigit() and int(name) in set(lookups.partners(con)["partner_id"].astype(int)):
        return int(name)
    pid = userdata.find_partner(con, name)  # the one place that knows how partner names match
    if pid is None:
        raise CliError(say(lang, "no_partner", name=name))
    return pid


def run_statement(args: argparse.Namespace) -> int:
    """Write one partner's statement."""
    from reports import statement

    f = Filters(args.date_from, args.date_to, view=args.view)
    with store.connect(_db(args), read_only=True) as con:
        pid = find_partner(con, args.partner, args.lang)
        data = statement.partner_statement(con, f, pid, args.format, args.lang)
    name = f"partner-roi-statement-{pid}-{f.date_from:%Y-%m-%d}_{f.date_to:%Y-%m-%d}-{args.lang}.{args.format}"
    print(say(args.lang, "wrote", path=_write(args.out / name, data)))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the export of a whole period."""
    from reports import exports

    f = Filters(args.date_from, args.date_to, view=args.view)
    with store.connect(_db(args), read_only=True) as con:
        data = exports.export_view(con, f, args.format, args.lang, sep=args.sep)
    path = _write(args.out / exports.filename("view", f, args.format, args.lang), data)
    print(say(args.lang, "wrote", path=path))
    return 0


COMMANDS = {"weekly": run_weekly, "statement": run_statement, "export": run_export, "snapshot": snapshot.run,
            "alerts": alert_send.main}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the sub-command, turn known failures into one sentence and exit code 1."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (CliError, mailer.MailError) as exc:
        print(redact(str(exc)), file=sys.stderr)
    except store.DamagedDatabase as exc:  # its own sentence says what to do
        print(exc.text(args.lang), file=sys.stderr)
    except (store.StoreError, FilterError, OSError) as exc:
        print(redact(say(args.lang, "failed", reason=str(exc).rstrip("."))), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
