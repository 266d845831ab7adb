"""`python -m data_layer {demo,sync,costs,restore}`: one entry point, each sub-command lives in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys

from data_layer import store

# sub-command -> module exposing add_arguments(parser) and run(args) -> int
COMMANDS = {
    "demo": ("data_layer.demo", "Build the embedded demo account into a database."),
    "sync": ("data_layer.sync.cli", "Sync an amoCRM / Kommo account into the database."),
    "costs": ("data_layer.costs_io", "Import or export the cost ledger (CSV / XLSX)."),
    "restore": ("data_layer.restore_cli", "Put the copy a sync keeps back in place of a damaged database file."),
}


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and hand over to its module."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m data_layer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    # Import only the module of the command asked for, so one sub-command never breaks another.
    chosen = [argv[0]] if argv and argv[0] in COMMANDS else list(COMMANDS)
    for name, (module_name, help_text) in COMMANDS.items():
        if name not in chosen:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    try:
        return int(modules[args.command].run(args) or 0)
    except store.DamagedDatabase as exc:  # one sentence naming the file and what to do, never a traceback
        print(exc.text(getattr(args, "lang", "en")), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
