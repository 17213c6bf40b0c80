"""A job: one topic's share of one DAG run, the only thing passed between tasks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.topics import TopicConfig, load_topic


@dataclass(frozen=True, slots=True)
class Job:
    """One topic's share of one DAG run: what to read, where to write."""

    topic_file: str
    db: str
    data_dir: str
    run_id: str

    @property
    def stage_dir(self) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.run_id)
        return Path(self.data_dir) / "staging" / Path(self.topic_file).stem / safe

    def topic(self) -> TopicConfig:
        return load_topic(self.topic_file)
