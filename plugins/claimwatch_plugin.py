"""Airflow plugin: the claimwatch disagreements page at /claimwatch/ and a link in the UI.

The page is read-only and shows data from the analyst snapshot; like every
plugin app it is mounted outside Airflow's auth, so it shows nothing secret.
"""

from __future__ import annotations

from pathlib import Path

from airflow.plugins_manager import AirflowPlugin

from pipeline.dashboard import create_app


def _snapshot() -> Path:
    """The snapshot of the database the DAGs write: the Connection ``claimwatch_duckdb`` first."""
    from pipeline.settings import DB_CONN_ID, settings_from_env
    from pipeline.store import snapshot_path

    db = settings_from_env().db_path
    try:
        from airflow.models.connection import Connection

        host = Connection.get_connection_from_secrets(DB_CONN_ID).host
    except Exception:  # no such connection: the environment decides, as it does for the tasks
        host = None
    return snapshot_path(Path(host) if host else db)


class ClaimwatchPlugin(AirflowPlugin):
    name = "claimwatch"
    fastapi_apps = [{"app": create_app(_snapshot), "url_prefix": "/claimwatch", "name": "claimwatch"}]
    external_views = [
        {
            "name": "Disagreements",
            "href": "/claimwatch/",
            "destination": "nav",
            "category": "browse",
            "url_route": "claimwatch",
        }
    ]
