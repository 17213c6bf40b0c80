"""``claimwatch ui``: the Airflow UI with the claimwatch plugin, on loopback, from this virtualenv.

Runs ``airflow standalone`` (scheduler, DAG processor, triggerer and API server
with its UI) against the same Airflow home, DAGs and database as ``claimwatch
run``, bound to 127.0.0.1, after migrating Airflow's metadata database and
creating the one-slot DuckDB pool.  For one machine; the compose stack is the
deployment for more.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pipeline.settings import REPO_ROOT, Settings


def ui_environment(settings: Settings, db: Path, env: Mapping[str, str], port: int) -> dict[str, str]:
    """The environment ``airflow standalone`` needs: our DAGs and plugin, loopback, the venv on PATH
    (standalone starts its components as bare ``airflow`` commands)."""
    from pipeline.orchestration.runner import airflow_environment

    out = dict(env)
    out.update(airflow_environment(settings, env))
    out.update(
        {
            "AIRFLOW__CORE__PLUGINS_FOLDER": env.get("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO_ROOT / "plugins")),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "CLAIMWATCH_DB": str(db.resolve()),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    for key in ("CLAIMWATCH_STEP_PROCESS", "CLAIMWATCH_TASK_RETRIES", "CLAIMWATCH_RETRY_DELAY_SECONDS"):
        if key not in env:
            out.pop(key, None)  # a scheduler runs each task in its own process, with the DAGs' own retries
    return out


def run_ui(settings: Settings, db: Path, port: int) -> int:
    from pipeline.orchestration.runner import prepare_airflow

    env = ui_environment(settings, db, os.environ, port)
    os.environ.update(env)
    prepare_airflow(settings)
    home = Path(env["AIRFLOW_HOME"])
    print(
        f"claimwatch ui: http://127.0.0.1:{port}/ (Browse -> Disagreements); user admin, password in "
        f"{home / 'simple_auth_manager_passwords.json.generated'} once started. Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    os.execvpe("airflow", ["airflow", "standalone"], env)
    return 0  # not reached
