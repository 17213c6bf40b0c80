"""Where claimwatch keeps its files and how its tasks run, read once from the environment and passed in.

| variable                        | default                                | what                            |
|---------------------------------|----------------------------------------|---------------------------------|
| CLAIMWATCH_DATA_DIR             | ./data                                 | staging, archive, ledgers       |
| CLAIMWATCH_DB                   | $CLAIMWATCH_DATA_DIR/claimwatch.duckdb | the DuckDB file                 |
| CLAIMWATCH_TOPICS_DIR           | <repository>/topics                    | the topic YAML files            |
| CLAIMWATCH_STEP_PROCESS         | (unset)                                | ``fresh``: a new interpreter per step |
| CLAIMWATCH_TASK_RETRIES         | the DAG's own                          | Airflow retries per task        |
| CLAIMWATCH_RETRY_DELAY_SECONDS  | 30                                     | first retry delay (doubles)     |

Inside Airflow, an Airflow Connection ``claimwatch_duckdb`` (its ``host`` is the
file path) takes precedence over CLAIMWATCH_DB; see
``pipeline.orchestration.edge.resolve_db``.  Nothing else in the package reads
the environment for its own settings (``${VAR}`` references in topic files are
expanded where they are used, see ``pipeline.envrefs``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = REPO_ROOT / "sql"
DB_CONN_ID = "claimwatch_duckdb"
DUCKDB_POOL = "duckdb_writer"
STEP_PROCESS_ENV = "CLAIMWATCH_STEP_PROCESS"
TASK_RETRIES_ENV = "CLAIMWATCH_TASK_RETRIES"
RETRY_DELAY_ENV = "CLAIMWATCH_RETRY_DELAY_SECONDS"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    db_path: Path
    topics_dir: Path
    fresh_step_process: bool = False  # run each task body in a new interpreter (``claimwatch run``)
    task_retries: int | None = None  # None: each DAG's own default
    retry_delay_seconds: float = 30.0

    @property
    def airflow_home(self) -> Path:
        return self.data_dir / "airflow"


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("CLAIMWATCH_DATA_DIR") or Path.cwd() / "data").resolve()
    db_path = Path(env.get("CLAIMWATCH_DB") or data_dir / "claimwatch.duckdb").resolve()
    topics_dir = Path(env.get("CLAIMWATCH_TOPICS_DIR") or REPO_ROOT / "topics").resolve()
    retries = env.get(TASK_RETRIES_ENV)
    return Settings(
        data_dir=data_dir,
        db_path=db_path,
        topics_dir=topics_dir,
        fresh_step_process=env.get(STEP_PROCESS_ENV) == "fresh",
        task_retries=int(retries) if retries else None,
        retry_delay_seconds=float(env.get(RETRY_DELAY_ENV) or 30.0),
    )
