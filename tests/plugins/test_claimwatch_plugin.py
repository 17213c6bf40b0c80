"""The Airflow plugin loads through Airflow's plugin manager and serves its page."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

REPO_ROOT = Path(__file__).resolve().parents[2]


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
    assert response.status_code == 200 and "c.snapshot.duckdb" in response.text


def test_page_follows_the_duckdb_connection_like_the_tasks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLAIMWATCH_DB", str(tmp_path / "env.duckdb"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CLAIMWATCH_DUCKDB", f'{{"conn_type": "generic", "host": "{tmp_path / "conn.duckdb"}"}}'
    )
    module = runpy.run_path(str(REPO_ROOT / "plugins" / "claimwatch_plugin.py"))
    assert module["_snapshot"]() == tmp_path / "conn.snapshot.duckdb"
