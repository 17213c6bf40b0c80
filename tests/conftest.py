"""Shared fixtures.

Airflow reads its configuration when first imported, so the environment for
tests is set here, at import time, before any test module imports Airflow.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="claimwatch-test-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO_ROOT / "plugins")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ.setdefault("CLAIMWATCH_DATA_DIR", str(_AIRFLOW_HOME / "data"))


def require_path(path: Path, what: str) -> Path:
    """Skip when shared reference data is absent on a developer machine; fail in CI."""
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{what} not found at {path} (CI is set, so this is an error)")
    pytest.skip(f"{what} not found at {path}")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return require_path(SHARED_DIR / "seeds", "seed articles")


@pytest.fixture(scope="session")
def eval_seeds_dir() -> Path:
    return require_path(SHARED_DIR / "eval" / "seeds", "labelled seed corpus")


@pytest.fixture(scope="session")
def kursk_topic_file() -> Path:
    return REPO_ROOT / "topics" / "kursk.yaml"


@pytest.fixture(scope="session")
def kursk_topic(kursk_topic_file: Path):  # type: ignore[no-untyped-def]
    from pipeline.topics import load_topic

    return load_topic(kursk_topic_file)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "claimwatch.duckdb"
