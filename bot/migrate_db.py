"""`python -m bot migrate-db --from URL --to URL`: moves a club's database to another engine or file, and says
table by table what was moved and that it was verified."""

from __future__ import annotations

import asyncio
import sys

from bot.store.move import BadTarget, MoveError, MoveReport, TableResult, VerificationFailed, move

USAGE = "Usage: python -m bot migrate-db --from URL --to URL (each sqlite:///path or postgresql://…)"
EXIT_FAILED = 1
EXIT_USAGE = 2


def parse(arguments: list[str]) -> tuple[str, str]:
    """The source and destination URLs of `--from URL --to URL` (or `--from=URL`), in either order."""
    given: dict[str, str] = {}
    rest = list(arguments)
    while rest:
        option, _, value = rest.pop(0).partition("=")
        if option not in ("--from", "--to") or option in given:
            raise BadTarget(USAGE)
        if not value:
            if not rest:
                raise BadTarget(USAGE)
            value = rest.pop(0)
        given[option] = value
    if set(given) != {"--from", "--to"}:
        raise BadTarget(USAGE)
    return given["--from"], given["--to"]


def table_line(result: TableResult) -> str:
    if result.ok:
        return f"{result.name}: {result.rows:,} rows, checksum ok"
    return (f"{result.name}: {result.rows:,} rows read, {result.copied_rows:,} in the copy, "
            f"{'checksum ok' if result.checksum == result.copied_checksum else 'checksum MISMATCH'}")


def summary(report: MoveReport) -> str:
    return (f"Moved {report.rows:,} rows in {len(report.tables)} tables from {report.source} to "
            f"{report.destination} in {report.seconds:.1f} s; every table verified.")


def main(arguments: list[str]) -> int:
    """Runs the command; returns its exit code (0 moved, 1 refused or failed, 2 a usage error)."""
    try:
        source, destination = parse(arguments)
    except BadTarget:
        print(USAGE, file=sys.stderr)
        return EXIT_USAGE
    try:
        report = asyncio.run(move(source, destination))
    except BadTarget as error:
        print(f"migrate-db: {error}", file=sys.stderr)
        return EXIT_USAGE
    except VerificationFailed as error:
        for result in error.results:
            print(table_line(result))
        print(f"Nothing was moved: {error}.", file=sys.stderr)
        return EXIT_FAILED
    except MoveError as error:
        print(f"Nothing was moved: {error}.", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Stopped: nothing was moved.", file=sys.stderr)
        return EXIT_FAILED
    for result in report.tables:
        print(table_line(result))
    print(summary(report))
    return 0
