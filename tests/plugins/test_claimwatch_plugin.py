"""The Airflow plugin loads through Airflow's plugin manager and serves its page."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.store.session import publish_snapshot
from tests.unit.factories import store_incident

REPO_ROOT = Path(__file__).resolve().parents[2]
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def test_plugin_is_valid_for_airflow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow.plugins_manager import AirflowPlugin

    monkeypatch.setenv("CLAIMWATCH_DB", str(tmp_path / "c.duckdb"))
    module = runpy.run_path(str(REPO_ROOT / "plugins" / "claimwatch_plugin.py"))
    plugin = module["ClaimwatchPlugin"]
    assert issubclass(plugin, AirflowPlugin) and plugin.name == "claimwatch"
    (app_spec,) = plugin.fastapi_apps
    assert app_spec["url_prefix"] == "/claimwatch"
    assert not app_spec["url_prefix"].startswith(("/api/v2", "/ui", "/execution", "/auth", "/pluginsv2"))
    response = TestClient(app_spec["app"]).get("/")
    assert response.status_code == 401  # no login, no page: Airflow's auth manager is never even asked


DOCS_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


def test_the_plugin_app_serves_no_documentation_routes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """FastAPI's docs routes do not carry the app's login dependency, so they must not exist."""
    monkeypatch.setenv("CLAIMWATCH_DB", str(tmp_path / "c.duckdb"))
    module = runpy.run_path(str(REPO_ROOT / "plugins" / "claimwatch_plugin.py"))
    (app_spec,) = module["ClaimwatchPlugin"].fastapi_apps
    client = TestClient(app_spec["app"])
    assert {path: client.get(path).status_code for path in DOCS_PATHS} == dict.fromkeys(DOCS_PATHS, 404)
    assert client.get("/").status_code == 401


def test_page_follows_the_duckdb_connection_like_the_tasks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAIMWATCH_DB", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CLAIMWATCH_DUCKDB", f'{{"conn_type": "generic", "host": "{tmp_path / "conn.duckdb"}"}}'
    )
    module = runpy.run_path(str(REPO_ROOT / "plugins" / "claimwatch_plugin.py"))
    assert module["_snapshot"]() == tmp_path / "conn.snapshot.duckdb"


@pytest.mark.slow
def test_page_answers_only_to_a_logged_in_airflow_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Airflow's real api-server app with the plugin mounted, and a token from its own auth manager."""
    monkeypatch.setenv("CLAIMWATCH_DB", str(tmp_path / "c.duckdb"))
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", SIMPLE_AUTH_MANAGER)
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "oncall:viewer")
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"oncall": "correct horse"}), encoding="utf-8")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(passwords))
    from airflow.api_fastapi.app import create_app
    from airflow.utils import db

    db.initdb()  # the api-server checks every token against its table of revoked tokens
    incident_id = store_incident(tmp_path / "c.duckdb")
    publish_snapshot(tmp_path / "c.duckdb")
    client = TestClient(create_app(apps="core"))

    assert client.get("/claimwatch/").status_code == 401
    assert {p: client.get("/claimwatch" + p).status_code for p in DOCS_PATHS} == dict.fromkeys(DOCS_PATHS, 404)
    assert client.get("/claimwatch/", headers={"Authorization": "Bearer not.a.token"}).status_code == 403
    assert client.post("/auth/token", json={"username": "oncall", "password": "wrong"}).status_code == 401

    issued = client.post("/auth/token", json={"username": "oncall", "password": "correct horse"})
    assert issued.status_code == 201
    token = issued.json()["access_token"]
    with_header = client.get("/claimwatch/", headers={"Authorization": f"Bearer {token}"})
    assert with_header.status_code == 200 and "c.snapshot.duckdb" in with_header.text
    assert "Open incidents" in with_header.text and incident_id in with_header.text  # listed, to the logged in only
    assert incident_id not in client.get("/claimwatch/").text
    # the UI's own login travels as the ``_token`` cookie
    with_cookie = TestClient(client.app, cookies={"_token": token}).get("/claimwatch/")
    assert with_cookie.status_code == 200 and "Disagreements" in with_cookie.text
    # not served to a logged-in user either: the page is the app's only route
    logged_in = {p: client.get("/claimwatch" + p, headers={"Authorization": f"Bearer {token}"}) for p in DOCS_PATHS}
    assert {p: r.status_code for p, r in logged_in.items()} == dict.fromkeys(DOCS_PATHS, 404)
