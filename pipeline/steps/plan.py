"""Task ``plan``: one job per topic file; a second topic is a second YAML file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.steps.job import Job
from pipeline.topics import load_topic


def run(topic_files: Sequence[str | Path], db: str | Path, data_dir: str | Path, run_id: str) -> list[Job]:
    """One job per topic file; a second topic is a second YAML file."""
    jobs = []
    for path in topic_files:
        load_topic(path)  # fail the run here, with the file and field named, not halfway through
        jobs.append(Job(str(Path(path).resolve()), str(Path(db).resolve()), str(Path(data_dir).resolve()), run_id))
    if not jobs:
        raise ValueError("no topic files to run: add a topics/*.yaml file or pass a topic")
    return jobs


def topic_files_in(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("."))
