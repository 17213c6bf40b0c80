"""``claimwatch ui``: the Airflow UI with the claimwatch page, started natively on loopback from the venv."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.helpers import CLAIMWATCH

READY_TIMEOUT = 240.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_claimwatch_ui_serves_the_airflow_ui_and_the_claims_page_behind_its_login(tmp_path: Path) -> None:
    port = _free_port()
    home = tmp_path / "airflow"
    env = {
        **os.environ,
        "CLAIMWATCH_DATA_DIR": str(tmp_path / "data"),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",  # nothing is fetched while the test looks
        # The scheduler's own ports must not collide with another stack on this machine.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
    }
    proc = subprocess.Popen(
        [str(CLAIMWATCH), "ui", "--port", str(port), "--db", str(tmp_path / "c.duckdb")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "ui.log", "wb"),  # noqa: SIM115 - closed with the process
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"{base}/api/v2/monitor/health", timeout=5)
                if health.status_code == 200 and health.json()["scheduler"]["status"] == "healthy":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        log = (tmp_path / "ui.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        assert health is not None and health.status_code == 200, log
        assert httpx.get(f"{base}/claimwatch/", timeout=30).status_code == 401
        password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=30)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        page = httpx.get(f"{base}/claimwatch/", headers=headers, timeout=30)
        assert page.status_code == 200 and "Disagreements" in page.text
        dags = httpx.get(f"{base}/api/v2/dags", headers=headers, timeout=30).json()
        assert {"claimwatch_ingest", "claimwatch_alerts", "claimwatch_watchdog"} <= {d["dag_id"] for d in dags["dags"]}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)  # standalone stops its components on Ctrl-C
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything it left behind
