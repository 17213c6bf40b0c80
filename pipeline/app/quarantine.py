"""``claimwatch quarantine``: the held batches as text, and the release and drop actions.

Errors (an unknown id, a batch already released, a batch that still fails)
are ``QuarantineError`` or ``QualityError``, which the command line prints with
exit status 2.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.store.quarantine import QuarantinedBatch


def list_batches(db: Path, status: str | None) -> str:
    from pipeline.store.quarantine import list_quarantine
    from pipeline.store.session import open_store

    with open_store(db) as con:
        rows = list_quarantine(con, status)
    if not rows:
        return "no quarantined batches" + (f" with status {status}" if status else "")
    return "\n".join(_headline(r) for r in rows)


def show_batch(db: Path, batch_id: str) -> str:
    """The failed expectations with counts and sample rows, then the held pages."""
    from pipeline.store.quarantine import get_quarantined, held_records
    from pipeline.store.session import open_store

    with open_store(db) as con:
        entry = get_quarantined(con, batch_id)
        articles, claims = held_records(con, batch_id)
    lines = [_headline(entry), f"run {entry.run_id}, topic file {entry.topic_file or '(unknown)'}"]
    if entry.note:
        lines.append(f"note: {entry.note}")
    lines.append("failed expectations:")
    for p in entry.result.get("problems", []):
        counted = f"{p['count']} of {p['total']} rows" if p.get("count") is not None else f"raised {p.get('error')}"
        lines.append(f"  - [{p['severity']}] {p['suite']}: {p['expectation']}: {counted}")
        lines += [f"      {sample}" for sample in p.get("samples", [])]
    per_article: dict[str, int] = {}
    for c in claims:
        per_article[c.article_id] = per_article.get(c.article_id, 0) + 1
    lines.append("held articles:")
    lines += [f"  - {a.article_id}  {a.url}  ({per_article.get(a.article_id, 0)} claims)" for a in articles]
    return "\n".join(lines)


def release_batch(db: Path, batch_id: str, topic_file: Path | None) -> str:
    """Re-validate with the current suites and load the batch; the snapshot is refreshed after."""
    from pipeline.quality.gate import Gate
    from pipeline.store.quarantine import get_quarantined, release
    from pipeline.store.session import open_store, publish_snapshot
    from pipeline.topics import load_topic

    with open_store(db) as con:
        entry = get_quarantined(con, batch_id)
        path = topic_file or (Path(entry.topic_file) if entry.topic_file else None)
        if path is None:
            raise FileNotFoundError(f"batch {batch_id} names no topic file; pass --topic FILE")
        topic = load_topic(path)
        result = release(con, batch_id, topic, Gate(), topic.dedup.near_duplicate_similarity)
    publish_snapshot(db)
    return (
        f"batch {batch_id}: quarantined -> released; stored {result.articles} articles ({result.claims} claims), "
        f"{result.duplicates} duplicates of stored ones"
    )


def drop_batch(db: Path, batch_id: str, note: str) -> str:
    from pipeline.store.quarantine import drop
    from pipeline.store.session import open_store, publish_snapshot

    with open_store(db) as con:
        drop(con, batch_id, note)
    publish_snapshot(db)
    return f"batch {batch_id}: quarantined -> dropped"


def _headline(r: QuarantinedBatch) -> str:
    scope = "whole batch, " if r.whole else ""
    return (
        f"{r.batch_id}  {r.status:<11} {r.topic}  {r.created_at.isoformat(timespec='seconds')}  "
        f"{scope}{r.articles} articles, {r.claims} claims"
    )
