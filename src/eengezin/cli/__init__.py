"""The ``eengezin`` command line.

Contract: ../shared/PROCESS.md §6.1. User errors print a message (never a traceback) and
exit 2; ``validate`` exits 1 with ``file:line:col: message`` lines. Command modules are
imported only when their command runs, so ``eengezin --help`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from ..errors import DefinitionError, EengezinError
from .base import EXIT_OK, EXIT_USAGE, UsageError

Handler = Callable[[argparse.Namespace, TextIO], int]

__all__ = ["UsageError", "build_parser", "entry", "main"]


def _json_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="JSON op stdout (compact)")
    p.add_argument("--pretty", action="store_true", help="met --json: ingesprongen JSON")


def _store_option(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument("--store", required=required, metavar="URL",
                   help="pad of sqlite:///bestand.db, of postgresql://…")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eengezin",
        description="Workflow-engine voor 1Gezin1Plan1Regisseur: definities controleren, "
                    "tekenen, scenario's afspelen en opgeslagen trajecten beheren.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log elke beslissing naar stderr")
    parser.add_argument("--no-cache", action="store_true",
                        help="lees definities opnieuw uit YAML, zonder de cache op schijf")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="meegeleverde definities: id, versie, titel")
    _json_options(p)
    p.set_defaults(handler="run:cmd_list")

    p = sub.add_parser("validate", help="controleer een definitie (exit 1 met file:line:col)")
    p.add_argument("definition", metavar="DEF", help="meegeleverd id of pad naar YAML")
    p.set_defaults(handler="run:cmd_validate")

    p = sub.add_parser("diagram", help="toestandsdiagram als Mermaid of DOT")
    p.add_argument("definition", metavar="DEF")
    p.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    p.set_defaults(handler="run:cmd_diagram")

    p = sub.add_parser("run", help="speel een scenario (JSONL) af")
    p.add_argument("definition", metavar="DEF")
    p.add_argument("--events", required=True, metavar="FILE.jsonl", help="'-' leest stdin")
    p.add_argument("--at-start", metavar="ISO", help="tijdstip voor regels zonder 'at'")
    p.add_argument("--traject", metavar="ID", help="traject-id")
    _json_options(p)
    _store_option(p, required=False)
    p.set_defaults(handler="run:cmd_run")

    p = sub.add_parser("check", help="modelcontrole: invarianten, doodlopende staten, "
                                     "onbereikbare staten")
    p.add_argument("definition", metavar="DEF")
    p.add_argument("--max-states", type=int, default=None, metavar="N")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="delen tegelijk in zoveel processen (standaard: het aantal cpu's)")
    p.add_argument("--no-reduce", action="store_true",
                   help="zonder waarnemers, zijsporen en openstaande plichten weg te laten "
                        "(zelfde bevindingen, meer toestanden; om te vergelijken)")
    _json_options(p)
    p.set_defaults(handler="check:cmd_check")

    p = sub.add_parser("show", help="een opgeslagen traject: versie, definitie, staat")
    _store_option(p, required=True)
    p.add_argument("traject", metavar="ID")
    _json_options(p)
    p.set_defaults(handler="store:cmd_show")

    p = sub.add_parser("history", help="het logboek van een opgeslagen traject (per pagina)")
    _store_option(p, required=True)
    p.add_argument("traject", metavar="ID")
    p.add_argument("--start", type=int, default=0, metavar="VERSIE",
                   help="alleen regels na deze versie")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="hoogstens N regels")
    _json_options(p)
    p.set_defaults(handler="store:cmd_history")

    p = sub.add_parser("migrate", help="zet opgeslagen trajecten over naar een nieuwe versie")
    _store_option(p, required=True)
    p.add_argument("--to", required=True, metavar="DEF", help="de nieuwe definitie")
    p.add_argument("--migration", action="append", metavar="FILE",
                   help="migratiebestand of map (standaard: migrations/ naast DEF)")
    p.add_argument("--dry-run", action="store_true", help="alleen rapporteren, niets wijzigen")
    _json_options(p)
    p.set_defaults(handler="store:cmd_migrate")

    p = sub.add_parser("monitor", help="verantwoording: de cijfers van de definities over een "
                                       "periode")
    _store_option(p, required=True)
    p.add_argument("--van", metavar="DATE", help="begin van de periode (standaard: 1 januari)")
    p.add_argument("--tot", metavar="DATE",
                   help="einde van de periode, inclusief (standaard: vandaag)")
    _json_options(p)
    p.set_defaults(handler="store:cmd_monitor")

    p = sub.add_parser("verify", help="beslis het logboek opnieuw en vergelijk met wat is "
                                      "vastgelegd")
    _store_option(p, required=True)
    p.add_argument("traject", metavar="ID", nargs="*", help="standaard: alle trajecten")
    p.add_argument("--heads", action="store_true",
                   help="druk de koppen van de hashketens af (om elders vast te leggen)")
    _json_options(p)
    p.set_defaults(handler="store:cmd_verify")

    p = sub.add_parser("erase", help="wis de persoonsgegevens van een traject")
    _store_option(p, required=True)
    p.add_argument("traject", metavar="ID")
    p.add_argument("--reden", required=True, metavar="TEKST", help="waarom (wordt vastgelegd)")
    p.add_argument("--door", required=True, metavar="ID", help="wie wist")
    p.add_argument("--uitzondering", metavar="TEKST",
                   help="gedocumenteerde uitzondering op een lopende wettelijke bewaartermijn")
    p.set_defaults(handler="store:cmd_erase")

    p = sub.add_parser("retention", help="wis wat de bewaartermijn voorbij is")
    _store_option(p, required=True)
    p.add_argument("--dry-run", action="store_true", help="alleen tonen")
    p.add_argument("--apply", action="store_true", help="werkelijk wissen")
    p.add_argument("--at", metavar="ISO", help="moment (standaard: nu)")
    _json_options(p)
    p.set_defaults(handler="store:cmd_retention")

    p = sub.add_parser("inzage", help="alle gegevens over een persoon als JSON (AVG art. 15)")
    _store_option(p, required=True)
    p.add_argument("--zoek", required=True, metavar="TEKST", help="naam, BSN of e-mailadres")
    p.set_defaults(handler="store:cmd_inzage")

    p = sub.add_parser("deadlines", help="open of verlopen termijnen in een opslag")
    _store_option(p, required=True)
    p.add_argument("--overdue-at", metavar="DATE", help="alleen termijnen verlopen op DATE")
    p.add_argument("--limit", type=int, metavar="N")
    _json_options(p)
    p.set_defaults(handler="store:cmd_deadlines")

    from ..zgw.cli import register as register_zgw  # zgw zaaktype, zgw relay (docs/zgw.md)
    register_zgw(sub)
    return parser


def _handler(spec: str) -> Handler:
    module, name = spec.split(":")
    found: Handler = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    return found


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s %(message)s")


def entry() -> int:
    """Console-script entry: configures logging for this process, then runs :func:`main`."""
    argv = sys.argv[1:]
    _configure_logging("-v" in argv or "--verbose" in argv)
    return main(argv)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``eengezin`` command in-process; returns the exit code.

    Logging is left as the caller configured it (:func:`entry` sets it up for the console).
    """
    stdout = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.no_cache:
        os.environ["EENGEZIN_NO_CACHE"] = "1"
    try:
        handler = _handler(args.handler)
        return handler(args, stdout)
    except DefinitionError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
        return EXIT_USAGE
    except EengezinError as exc:
        sys.stderr.write(f"eengezin: {exc}\n")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
