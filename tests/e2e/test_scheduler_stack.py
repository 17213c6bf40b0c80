"""The DAGs under a real Airflow scheduler, on the stack docker-compose.yaml describes.

docker-compose.yaml runs claimwatch on the CeleryExecutor with PostgreSQL as the
metadata database and Redis as the Celery broker, plus the scheduler, the
dag-processor, the api-server (whose Execution API the tasks talk to) and the
triggerer.  There is no Docker engine here, so this test starts the same Airflow
services natively, as subprocesses of the venv's ``airflow``, against PostgreSQL
and Redis on loopback (see conftest.py), with the repository's own ``dags/`` and
``plugins/``.  It then does what an operator would, through the api-server's REST
API: unpause the DAGs, trigger ``claimwatch_ingest``, and wait until the ingest run and the asset-triggered
``claimwatch_alerts`` run have succeeded; it checks the DuckDB file and the
delivered alerts, triggers ingest again and checks that nothing new was stored
or sent.

Unpausing the hourly ``claimwatch_ingest`` also makes the scheduler create its
regular run for the last hour (``catchup=False`` still runs the latest
interval), so the test waits until *every* ingest run has succeeded and its
claims-asset event has been consumed by a successful alerts run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import httpx
import pytest

from pipeline.settings import DUCKDB_POOL
from tests.e2e.conftest import PostgresDatabase, RedisBroker
from tests.integration.helpers import Webhook, webhook_receiver, write_topic

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
AIRFLOW = Path(sys.executable).with_name("airflow")
CLAIMWATCH = Path(sys.executable).with_name("claimwatch")

INGEST = "claimwatch_ingest"
ALERTS = "claimwatch_alerts"
USERNAME = "e2e"

READY_TIMEOUT = 240.0
RUN_TIMEOUT = 480.0
STOP_GRACE = 20.0
POLL_EVERY = 1.0
# After the failed run's ops alert arrived, how long to keep watching for a second (duplicate) one.
DUPLICATE_WATCH = 9.0
PROGRESS_EVERY = 15.0
TOKEN_VAR = "CLAIMWATCH_E2E_TOKEN"  # marks every process of one stack, for the final sweep


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<cannot read: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def _when(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def _progress(start: float, message: str) -> None:
    print(f"[e2e {time.monotonic() - start:5.0f}s] {message}", flush=True)


@dataclass
class Stack:
    """The Airflow services of docker-compose.yaml as native subprocesses sharing one environment."""

    home: Path
    env: dict[str, str]
    api_url: str
    password: str
    started: float = field(default_factory=time.monotonic)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)
    _client: httpx.Client | None = None

    @property
    def log_dir(self) -> Path:
        return self.home / "process-logs"

    # --- processes -------------------------------------------------------------------

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A one-off command (airflow or claimwatch), failing with its output when it fails."""
        result = subprocess.run(
            [*args], env=self.env, cwd=self.home, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n"
                f"--- stderr\n{result.stderr[-4000:]}"
            )
        return result

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run(str(AIRFLOW), *args, timeout=timeout)

    def start(self, name: str, *args: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("wb")
        self._logs.append(log)
        self.procs[name] = subprocess.Popen(
            [str(AIRFLOW), *args],
            env=self.env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches its children too
        )

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise AssertionError(f"Airflow processes exited early: {dead}")

    def stop(self) -> None:
        """SIGTERM every process group, SIGKILL what is left after the grace period, then sweep stragglers.

        Task processes run in process groups of their own (the task supervisor
        calls setpgid), so a last sweep finds this stack's processes by the
        marker variable in their environment and kills them by pid.
        """
        if self._client is not None:
            self._client.close()
        for proc in self.procs.values():
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for proc in self.procs.values():
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in self.procs.values():
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the leader may be gone while its children live on
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"e2e: process {proc.pid} did not exit after SIGKILL", file=sys.stderr)
        leftovers = self._marked_pids()
        for pid in leftovers:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if leftovers:
            print(f"e2e: killed {len(leftovers)} leftover process(es) of this stack: {leftovers}", file=sys.stderr)
        for log in self._logs:
            log.close()

    def _marked_pids(self) -> list[int]:
        marker = f"{TOKEN_VAR}={self.env[TOKEN_VAR]}".encode()
        found = []
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return [pid for pid in found if pid != os.getpid()]

    # --- the REST API ----------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            token = httpx.post(
                f"{self.api_url}/auth/token", json={"username": USERNAME, "password": self.password}, timeout=30
            )
            token.raise_for_status()
            self._client = httpx.Client(
                base_url=f"{self.api_url}/api/v2",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                timeout=30,
            )
        return self._client

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{dag_id}/dagRuns", limit=100, order_by="id")["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)["task_instances"])

    def unpause(self, dag_id: str) -> None:
        self.client.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> None:
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
        self.client.post(f"/dags/{dag_id}/dagRuns", json=body).raise_for_status()

    def triggering_runs(self, run_id: str) -> set[str]:
        """The ingest runs whose claims-asset events this alerts run consumed."""
        events = self.get(f"/dags/{ALERTS}/dagRuns/{run_id}/upstreamAssetEvents")["asset_events"]
        return {e["source_run_id"] for e in events if e.get("source_dag_id") == INGEST and e.get("source_run_id")}

    # --- diagnostics -----------------------------------------------------------------

    def diagnostics(self) -> str:
        out = [f"=== Airflow home: {self.home}"]
        for name, proc in self.procs.items():
            log = self.log_dir / f"{name}.log"
            out.append(f"=== {name} (pid {proc.pid}, exit {proc.poll()}): last lines of {log}")
            out.append(_tail(log, 60))
        try:
            for dag_id in (INGEST, ALERTS):
                for run in self.runs(dag_id):
                    out.append(f"=== {dag_id} {run['dag_run_id']} {run['run_type']}: {run['state']}")
                    if run["state"] != "success":
                        for ti in self.task_instances(dag_id, run["dag_run_id"]):
                            out.append(f"    {ti['task_id']}[{ti['map_index']}] {ti['state']} try {ti['try_number']}")
        except Exception as exc:  # the api-server may be the thing that is broken
            out.append(f"=== (run and task states unavailable: {exc!r})")
        task_logs = sorted((self.home / "logs").rglob("attempt=*.log"), key=lambda p: p.stat().st_mtime)
        for path in task_logs[-25:]:
            out.append(f"=== task log {path.relative_to(self.home)}")
            out.append(_tail(path, 30))
        for path in sorted((Path(self.env["CLAIMWATCH_DATA_DIR"]) / "errors").glob("*.jsonl")):
            out.append(f"=== claimwatch error ledger {path.name}")
            out.append(_tail(path, 20))
        return "\n".join(out)


@pytest.fixture
def stack(tmp_path: Path, postgres_database: PostgresDatabase, redis_broker: RedisBroker) -> Iterator[Stack]:
    from cryptography.fernet import Fernet

    home = tmp_path / "airflow"
    home.mkdir()
    token = uuid.uuid4().hex[:12]
    api_port = _free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    password = secrets.token_urlsafe(16)
    passwords_file = home / "simple_auth_manager_passwords.json"
    passwords_file.write_text(json.dumps({USERNAME: password}), encoding="utf-8")

    # Nothing Airflow- or claimwatch-specific leaks in from the test process (tests/conftest.py
    # points this process at SQLite); the venv's bin/ comes first so bare `airflow` resolves.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CLAIMWATCH_"))}
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            TOKEN_VAR: token,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_database.sqlalchemy_url,
            "AIRFLOW__CELERY__BROKER_URL": redis_broker.url,
            "AIRFLOW__CELERY__RESULT_BACKEND": postgres_database.celery_result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            # A queue of its own: a stray worker elsewhere on this Redis never takes these tasks.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": f"claimwatch-e2e-{token}",
            # Airflow 3: tasks reach the metadata only through the api-server's Execution API,
            # with tokens signed by the JWT secret that every process must share.
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": api_url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            # Fixed ports of the compose file (8793, 8794, 8974) may be taken here: pick free ones.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # claimwatch: CLAIMWATCH_DB is left unset on purpose, so the DuckDB file is found
            # only through the Airflow connection (the default would be data/claimwatch.duckdb).
            "CLAIMWATCH_DATA_DIR": str(tmp_path / "data"),
            "CLAIMWATCH_TOPICS_DIR": str(tmp_path / "topics"),
            "AIRFLOW_CONN_CLAIMWATCH_DUCKDB": json.dumps(
                {"conn_type": "generic", "host": str(tmp_path / "claimwatch.duckdb")}
            ),
            "CLAIMWATCH_TASK_RETRIES": "1",
            "CLAIMWATCH_RETRY_DELAY_SECONDS": "2",
        }
    )
    s = Stack(home=home, env=env, api_url=api_url, password=password)
    try:
        yield s
    finally:
        s.stop()


def _wait_until_ready(stack: Stack) -> None:
    """The api-server answers, every component reports healthy, and both DAGs are parsed and stored."""
    deadline = time.monotonic() + READY_TIMEOUT
    last_progress = 0.0
    status: Any = "api-server not answering yet"
    while True:
        stack.check_alive()
        try:
            health = httpx.get(f"{stack.api_url}/api/v2/monitor/health", timeout=10).json()
            status = {k: (v or {}).get("status") for k, v in health.items()}
            if all(v == "healthy" for v in status.values()):
                dags = {d["dag_id"] for d in stack.get("/dags", limit=100)["dags"]}
                worker_up = re.search(r"\S+@\S+ ready\.", _tail(stack.log_dir / "worker.log", 400))
                if {INGEST, ALERTS} <= dags and worker_up:
                    return
                status = {**status, "dags": sorted(dags), "celery worker": "ready" if worker_up else "starting"}
        except httpx.HTTPError as exc:
            status = f"api-server not answering yet ({type(exc).__name__})"
        if time.monotonic() > deadline:
            raise AssertionError(f"the stack was not ready within {READY_TIMEOUT:.0f}s: {status}")
        if time.monotonic() - last_progress > PROGRESS_EVERY:
            _progress(stack.started, f"waiting for the stack: {status}")
            last_progress = time.monotonic()
        time.sleep(POLL_EVERY)


def _wait_until_settled(stack: Stack, run_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Until ``run_id`` and every other ingest run succeeded, and each one's asset event was
    consumed by a successful alerts run, with nothing queued or running; fail fast on a failed run."""
    deadline = time.monotonic() + RUN_TIMEOUT
    last_progress = 0.0
    consumed: dict[str, set[str]] = {}  # successful alerts run -> ingest runs it was triggered by
    while True:
        stack.check_alive()
        ingest, alerts = stack.runs(INGEST), stack.runs(ALERTS)
        failed = [f"{r['dag_id']} {r['dag_run_id']}" for r in ingest + alerts if r["state"] == "failed"]
        if failed:
            raise AssertionError(f"DAG runs failed: {failed}")
        for run in alerts:
            if run["state"] == "success" and run["dag_run_id"] not in consumed:
                consumed[run["dag_run_id"]] = stack.triggering_runs(run["dag_run_id"])
        succeeded = {r["dag_run_id"] for r in ingest if r["state"] == "success"}
        unconsumed = succeeded - set().union(*consumed.values())
        busy = [r for r in ingest + alerts if r["state"] != "success"]
        if run_id in succeeded and not unconsumed and not busy:
            for run in ingest + alerts:
                took = (_when(run["end_date"]) - _when(run["start_date"])).total_seconds()
                after = f" <- {sorted(consumed[run['dag_run_id']])}" if run["dag_id"] == ALERTS else ""
                _progress(stack.started, f"  {run['dag_id']} {run['dag_run_id']}: success in {took:.0f}s{after}")
            return ingest, alerts
        if time.monotonic() > deadline:
            raise AssertionError(f"runs did not settle within {RUN_TIMEOUT:.0f}s")
        if time.monotonic() - last_progress > PROGRESS_EVERY:
            states = " ".join(f"{r['dag_id'][11:]}:{r['dag_run_id'][:28]}={r['state']}" for r in ingest + alerts)
            _progress(stack.started, f"waiting for {run_id}: {states or 'no runs yet'}")
            last_progress = time.monotonic()
        time.sleep(POLL_EVERY)


def _wait_for_ops_alerts(stack: Stack, run_id: str, ops_file: Path) -> list[str]:
    """Until ``run_id`` failed and its failure callback wrote to the ops route; then a little longer,
    so a second (duplicate) alert would be seen too."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        stack.check_alive()
        states = {r["dag_run_id"]: r["state"] for r in stack.runs(INGEST)}
        if states.get(run_id) == "success":
            raise AssertionError(f"{run_id} succeeded although every feed of its topic is down")
        if states.get(run_id) == "failed" and ops_file.exists():
            time.sleep(DUPLICATE_WATCH)
            return ops_file.read_text(encoding="utf-8").splitlines()
        if time.monotonic() > deadline:
            raise AssertionError(f"no operations alert within {RUN_TIMEOUT:.0f}s (run state {states.get(run_id)})")
        time.sleep(POLL_EVERY)


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)  # only once no task runs: DuckDB locks across processes
    try:
        counts = {
            t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in ("articles", "claims", "contradictions", "alerts")
        }
        counts["undelivered"] = int(
            con.execute("SELECT count(*) FROM alerts WHERE status <> 'delivered'").fetchone()[0]  # type: ignore[index]
        )
        return counts
    finally:
        con.close()


def _trigger(stack: Stack, run_id: str) -> None:
    stack.trigger(INGEST, run_id)
    _progress(stack.started, f"triggered {INGEST} {run_id}")


def test_dags_under_scheduler_celery_postgres_redis(stack: Stack, tmp_path: Path) -> None:
    from pipeline.app.sample_site import serve_site

    db = tmp_path / "claimwatch.duckdb"
    alerts_file = tmp_path / "data" / "alerts.jsonl"
    (tmp_path / "topics").mkdir()
    (tmp_path / "data").mkdir()

    with ExitStack() as cleanup:
        base = cleanup.enter_context(serve_site())
        hook: Webhook = cleanup.enter_context(webhook_receiver())
        write_topic(tmp_path / "topics" / "e2e.yaml", f"{base}/feed.xml", ["file:alerts.jsonl", hook.url])
        try:
            _start_stack(stack, db)

            # Through the api-server's REST API, as the UI and airflowctl do (an `airflow dags` command
            # would spend seconds importing Airflow for each).
            stack.unpause(ALERTS)
            stack.unpause(INGEST)
            first = f"e2e_first_{uuid.uuid4().hex[:8]}"
            _trigger(stack, first)
            ingest_runs, alerts_runs = _wait_until_settled(stack, first)
            _progress(stack.started, f"settled: {len(ingest_runs)} ingest run(s), {len(alerts_runs)} alerts run(s)")

            assert any(r["run_type"] == "asset_triggered" for r in alerts_runs), alerts_runs
            # The tasks went through Celery: they were queued on this stack's own queue and the worker ran them.
            loads = [t for t in stack.task_instances(INGEST, first) if t["task_id"] == "load"]
            assert loads and all(t["queue"] == stack.env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] for t in loads), loads
            assert INGEST in _tail(stack.log_dir / "worker.log", 100_000)

            after_first = _counts(db)
            assert after_first["articles"] >= 4, after_first
            assert after_first["claims"] >= 10, after_first
            assert after_first["contradictions"] >= 1, after_first
            assert after_first["alerts"] >= 1 and after_first["undelivered"] == 0, after_first
            delivered = alerts_file.read_text(encoding="utf-8").splitlines()
            assert len(delivered) >= 1 and len(hook.bodies) == len(delivered), (len(delivered), len(hook.bodies))
            # The tasks found the DuckDB file through the Airflow connection, not CLAIMWATCH_DB's default.
            assert not (tmp_path / "data" / "claimwatch.duckdb").exists()

            second = f"e2e_second_{uuid.uuid4().hex[:8]}"
            _trigger(stack, second)
            _wait_until_settled(stack, second)
            assert _counts(db) == after_first
            assert alerts_file.read_text(encoding="utf-8").splitlines() == delivered
            assert len(hook.bodies) == len(delivered)
            _progress(stack.started, f"idempotent under the scheduler: {after_first}")

            # The claims page answers only to a logged-in Airflow user, under the real api-server.
            page = f"{stack.api_url}/claimwatch/"
            assert httpx.get(page, timeout=30).status_code == 401
            signed_in = stack.client.get(page)
            assert signed_in.status_code == 200 and "Disagreements" in signed_in.text

            _assert_a_failed_run_pages_once(stack, tmp_path)
        except BaseException:
            print(stack.diagnostics(), file=sys.stderr, flush=True)
            raise


def _start_stack(stack: Stack, db: Path) -> None:
    """What airflow-init does in docker-compose.yaml, then every service of the stack."""
    _progress(stack.started, "airflow db migrate (PostgreSQL)")
    stack.airflow("db", "migrate", timeout=600)
    stack.airflow("pools", "set", DUCKDB_POOL, "1", "single DuckDB writer")
    stack.run(str(CLAIMWATCH), "migrate", "--db", str(db))
    for name, args in {
        "api-server": ["api-server"],
        "scheduler": ["scheduler"],
        "dag-processor": ["dag-processor"],
        "triggerer": ["triggerer"],
        "worker": ["celery", "worker", "--celery-hostname", f"e2e-{stack.env[TOKEN_VAR]}@%h"],
    }.items():
        stack.start(name, *args)
    _wait_until_ready(stack)
    _progress(stack.started, "stack ready: api-server, scheduler, dag-processor, triggerer, celery worker")


def _assert_a_failed_run_pages_once(stack: Stack, tmp_path: Path) -> None:
    """A failed run pages the topic's ops route once: the dag-processor runs the DAG's failure callback."""
    (tmp_path / "dead").mkdir()
    dead = write_topic(
        tmp_path / "dead" / "dead.yaml",
        f"http://127.0.0.1:{_free_port()}/feed.xml",
        [],
        name="e2e_dead",
        ops_alert_urls=["file:ops.jsonl"],
    )
    failing = f"e2e_failing_{uuid.uuid4().hex[:8]}"
    stack.trigger(INGEST, failing, {"topic_file": str(dead)})
    ops_lines = _wait_for_ops_alerts(stack, failing, tmp_path / "data" / "ops.jsonl")
    assert len(ops_lines) == 1, ops_lines
    ops_alert = json.loads(ops_lines[0])
    assert (ops_alert["topic"], ops_alert["task_id"], ops_alert["run_id"]) == ("e2e_dead", "discover", failing)
    assert "every feed of topic 'e2e_dead' failed" in ops_alert["error"]
    _progress(stack.started, "a failed run under the scheduler sent one operations alert")
