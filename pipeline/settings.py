"""Where claimwatch keeps its files, read once from the environment and passed in.

| variable               | default                          |
|------------------------|----------------------------------|
| CLAIMWATCH_DATA_DIR    | ./data                           |
| CLAIMWATCH_DB          | $CLAIMWATCH_DATA_DIR/claimwatch.duckdb |
| CLAIMWATCH_TOPICS_DIR  | <repository>/topics              |

Inside Airflow, an Airflow Connection ``claimwatch_duckdb`` (its ``host`` is the
file path) takes precedence over CLAIMWATCH_DB; see ``pipeline.tasks.plan``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DB_CONN_ID = "claimwatch_duckdb"
DUCKDB_POOL = "duckdb_writer"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    db_path: Path
    topics_dir: Path

    @property
    def airflow_home(self) -> Path:
        return self.data_dir / "airflow"


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("CLAIMWATCH_DATA_DIR") or Path.cwd() / "data").resolve()
    db_path = Path(env.get("CLAIMWATCH_DB") or data_dir / "claimwatch.duckdb").resolve()
    topics_dir = Path(env.get("CLAIMWATCH_TOPICS_DIR") or REPO_ROOT / "topics").resolve()
    return Settings(data_dir=data_dir, db_path=db_path, topics_dir=topics_dir)
