"""The ``claimwatch`` command line.

Every subcommand takes ``--db FILE`` (default: the database in the data
directory, see ``pipeline.settings``).  Errors go to stderr with a non-zero
exit status; nothing here swallows a failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pipeline.settings import REPO_ROOT, Settings, settings_from_env

DEFAULT_TOPIC = REPO_ROOT / "topics" / "kursk.yaml"


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, help="DuckDB file (default: $CLAIMWATCH_DB or <data dir>/claimwatch.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimwatch", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "run", help="run claimwatch_ingest then claimwatch_alerts once via dag.test(), each task in its own process"
    )
    p.add_argument("--topic", type=Path, required=True, help="topic YAML file")
    _add_db(p)

    p = sub.add_parser("demo", help="serve the bundled sample news site on loopback and run the pipeline on it")
    p.add_argument("--port", type=int, default=0, help="port for the sample site (default: any free port)")
    _add_db(p)

    p = sub.add_parser("eval", help="score claim extraction and contradiction detection against labels")
    p.add_argument("--corpus", type=Path, required=True, help="directory of article JSON files")
    p.add_argument("--labels", type=Path, help="labels JSON file (default: labels.json in the corpus folder)")
    p.add_argument("--topic", type=Path, default=DEFAULT_TOPIC, help="topic YAML (default: topics/kursk.yaml)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _add_db(p)

    p = sub.add_parser("reprocess", help="re-parse stored articles with the current extractor, without fetching")
    p.add_argument("--topic", type=Path, required=True, help="topic YAML file")
    p.add_argument(
        "--since",
        type=_since,
        help="re-extract text and claims from the raw archive for pages fetched since DATE (ISO date or time, UTC)",
    )
    _add_db(p)

    p = sub.add_parser("migrate", help="create or upgrade the DuckDB schema and views")
    p.add_argument(
        "--start-over",
        action="store_true",
        help="create a missing database although its snapshot or the raw archive shows earlier runs "
        "(their pages are fetched, and their alerts sent, again)",
    )
    _add_db(p)

    p = sub.add_parser("query", help="run one read-only SQL query and print the result (e.g. 'FROM disagreements')")
    p.add_argument("sql", help="the query")
    p.add_argument(
        "--live",
        action="store_true",
        help="query the live file (fails within seconds while another process holds it) instead of the snapshot",
    )
    _add_db(p)

    p = sub.add_parser("ui", help="start the Airflow UI with the claimwatch page on 127.0.0.1 (airflow standalone)")
    p.add_argument("--port", type=int, default=8080, help="port of the UI and API (default 8080)")
    _add_db(p)

    p = sub.add_parser("health", help="exit 1 and page ops_alerts when a topic has not ingested within freshness_hours")
    p.add_argument("--topic", type=Path, action="append", help="topic YAML (repeatable; default: every topic)")
    p.add_argument(
        "--scheduler",
        type=float,
        metavar="SECONDS",
        help="also fail when the Airflow scheduler's last heartbeat is older than SECONDS",
    )
    _add_db(p)

    p = sub.add_parser("alerts", help="the on-call workflow: list, acknowledge and resolve incidents")
    alerts = p.add_subparsers(dest="alerts_command", required=True)
    q = alerts.add_parser("list", help="incidents, most recent evidence first")
    q.add_argument("--status", choices=("open", "acked", "resolved"), help="only incidents in this state")
    _add_db(q)
    q = alerts.add_parser("ack", help="acknowledge an incident: its alerts are no longer sent")
    q.add_argument("id", help="incident id (from 'claimwatch alerts list')")
    _add_db(q)
    q = alerts.add_parser("resolve", help="close an incident: later conflicts open a new one")
    q.add_argument("id", help="incident id (from 'claimwatch alerts list')")
    q.add_argument("--note", required=True, help="why it is resolved (kept with the incident)")
    _add_db(q)

    _add_quarantine(sub)
    p = sub.add_parser("restore", help="put the snapshot back as the live database (deleted or damaged)")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a healthy live file too (what was written after the snapshot is lost)",
    )
    _add_db(p)
    return parser


def _add_quarantine(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("quarantine", help="batches the quality gate held back: list, show, release, drop")
    quarantine = p.add_subparsers(dest="quarantine_command", required=True)
    q = quarantine.add_parser("list", help="held batches, newest first")
    q.add_argument("--status", choices=("quarantined", "released", "dropped"), help="only batches in this state")
    _add_db(q)
    q = quarantine.add_parser("show", help="the failed expectations, counts, sample rows and held pages")
    q.add_argument("id", help="batch id (from 'claimwatch quarantine list')")
    _add_db(q)
    q = quarantine.add_parser("release", help="re-validate with the current suites and load the batch, once")
    q.add_argument("id", help="batch id (from 'claimwatch quarantine list')")
    q.add_argument("--topic", type=Path, help="topic YAML to validate against (default: the run's topic file)")
    _add_db(q)
    q = quarantine.add_parser("drop", help="give up on a held batch; its pages stay quarantined")
    q.add_argument("id", help="batch id (from 'claimwatch quarantine list')")
    q.add_argument("--note", required=True, help="why it is dropped (kept with the batch)")
    _add_db(q)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = settings_from_env()
    db: Path = args.db or settings.db_path
    handlers = {
        "run": cmd_run,
        "demo": cmd_demo,
        "eval": cmd_eval,
        "reprocess": cmd_reprocess,
        "migrate": cmd_migrate,
        "query": cmd_query,
        "alerts": cmd_alerts,
        "health": cmd_health,
        "ui": cmd_ui,
        "quarantine": cmd_quarantine,
        "restore": cmd_restore,
    }
    try:
        return handlers[args.command](args, settings, db)
    except KeyboardInterrupt:
        print("claimwatch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the one place errors become an exit status
        from pipeline.store.db import StoreError
        from pipeline.topics import TopicConfigError

        if isinstance(exc, (TopicConfigError, StoreError, FileNotFoundError, ValueError)):
            print(f"claimwatch: error: {exc}", file=sys.stderr)
            return 2
        raise


def cmd_run(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from pipeline.orchestration.runner import report_outcomes, run_pipeline
    from pipeline.topics import load_topic

    load_topic(args.topic)  # a bad file fails here, before Airflow starts
    outcomes = run_pipeline(args.topic, db, settings)
    return report_outcomes(outcomes)


def cmd_demo(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from pipeline.app.demo import run_demo

    return run_demo(settings, db, port=args.port)


def cmd_eval(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from pipeline.app.evaluation import evaluate, format_report
    from pipeline.topics import load_topic

    labels = args.labels or Path(args.corpus) / "labels.json"
    if args.labels is None and not labels.is_file():
        raise FileNotFoundError(f"{args.corpus}: no labels.json in the corpus folder; pass --labels FILE")
    report = evaluate(args.corpus, labels, load_topic(args.topic))
    print(json.dumps(report.to_dict(), indent=2, sort_keys=True) if args.json else format_report(report))
    return 0


def _since(value: str) -> datetime:
    """An ISO date or date-time; naive values are UTC."""
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or date-time: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_reprocess(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from pipeline.app.reprocess import reprocess, reprocess_archive
    from pipeline.topics import load_topic

    if args.since is not None:
        done = reprocess_archive(load_topic(args.topic), db, settings.data_dir, args.since)
        print(
            f"re-extracted {done.articles} articles from {done.pages} archived pages fetched since "
            f"{args.since.isoformat()} with extractor {done.extractor_version}: {done.claims} claims "
            f"({done.added} new, {done.removed} removed); {done.not_stored} pages stored no article"
            + (f"; {len(done.failed)} not re-extracted" if done.failed else "")
        )
        for line in done.failed:
            print(f"claimwatch: {line}", file=sys.stderr)
        return 0
    summary = reprocess(load_topic(args.topic), db)
    print(
        f"reprocessed {summary.articles} articles with extractor {summary.extractor_version}: "
        f"{summary.claims} claims ({summary.added} new, {summary.removed} removed)"
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    """Refuses a database it cannot trust (newer schema, damaged, missing after earlier runs), like every writer."""
    from pipeline.store.session import migrate_store

    applied = migrate_store(db, start_over=args.start_over)
    print(f"{db}: " + (f"applied migrations {', '.join(applied)}" if applied else "schema is current"))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from pipeline.store.session import restore_snapshot

    done = restore_snapshot(db, force=args.force)
    counts = ", ".join(f"{n} {table}" for table, n in done.counts.items())
    print(f"{db}: restored from {done.snapshot} (taken {done.taken.isoformat(timespec='seconds')}): {counts}")
    if done.kept is not None:
        print(f"the file it replaced is kept as {done.kept}")
    return 0


def cmd_query(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    """One reading statement, sandboxed (``pipeline.app.query``); the snapshot by default, so a long
    query never holds up the pipeline.  A refused or failing query is one line on stderr, exit 2."""
    from pipeline.app.query import run_query
    from pipeline.store.db import snapshot_path

    target = db if args.live else snapshot_path(db)
    if not target.exists():
        raise FileNotFoundError(f"no database at {target}: run 'claimwatch demo' or 'claimwatch run' first")
    run_query(target, args.sql)
    return 0


def cmd_alerts(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    """On the live database (the short lock wait applies); ack and resolve refresh the snapshot after."""
    from pipeline.store.db import refuse_if_missing
    from pipeline.store.incidents import list_incidents, set_incident_status
    from pipeline.store.session import open_store, publish_snapshot

    refuse_if_missing(db)  # deleted after earlier runs: say where the snapshot is, not "run first"
    if not db.exists():
        raise FileNotFoundError(f"no database at {db}: run 'claimwatch demo' or 'claimwatch run' first")
    if args.alerts_command == "list":
        with open_store(db) as con:
            rows = list_incidents(con, args.status)
        for r in rows:
            line = (
                f"{r.incident_id}  {r.status:<8} {r.severity:<6} {r.topic}/{r.metric}  "
                f"{r.opened_on.isoformat()}..{r.last_evidence_on.isoformat()}  {r.evidence} evidence"
            )
            print(line + (f"  note: {r.note}" if r.note else ""))
        if not rows:
            print("no incidents" + (f" with status {args.status}" if args.status else ""))
        return 0
    action = "ack" if args.alerts_command == "ack" else "resolve"
    with open_store(db) as con:
        before = set_incident_status(con, args.id, action, getattr(args, "note", None))
    publish_snapshot(db)
    print(f"incident {args.id}: {before} -> {'acked' if action == 'ack' else 'resolved'}")
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from datetime import timedelta

    from pipeline.app.health import SchedulerBeat, check, scheduler_heartbeat
    from pipeline.steps.plan import topic_files_in
    from pipeline.topics import load_topic

    topics = [load_topic(f) for f in (args.topic or topic_files_in(settings.topics_dir))]
    now = datetime.now(UTC)
    beat = None
    if args.scheduler is not None:
        beat = SchedulerBeat(scheduler_heartbeat(settings), timedelta(seconds=args.scheduler), now)
    return check(topics, db, settings, now, beat)


def cmd_ui(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    from pipeline.app.ui import run_ui

    return run_ui(settings, db, args.port)


def cmd_quarantine(args: argparse.Namespace, settings: Settings, db: Path) -> int:
    """On the live database; release and drop refresh the snapshot after."""
    from pipeline.app.quarantine import drop_batch, list_batches, release_batch, show_batch

    if not db.exists():
        raise FileNotFoundError(f"no database at {db}: run 'claimwatch demo' or 'claimwatch run' first")
    if args.quarantine_command == "list":
        print(list_batches(db, args.status))
    elif args.quarantine_command == "show":
        print(show_batch(db, args.id))
    elif args.quarantine_command == "release":
        print(release_batch(db, args.id, args.topic))
    else:
        print(drop_batch(db, args.id, args.note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
