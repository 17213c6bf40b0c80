"""Airflow plugin: the claimwatch disagreements page at /claimwatch/ and a link in the UI.

The page is read-only and shows data from the analyst snapshot.  A plugin app
is mounted outside Airflow's auth, so the app itself requires the UI's login:
the same JWT the api-server issues (the UI's ``_token`` cookie or an
``Authorization: Bearer`` header), checked by the api-server's own auth
manager.  Without it the page answers 401 (403 for a forged token).  The
app serves no documentation routes (``/docs``, ``/redoc``, ``/openapi.json``).
"""

from __future__ import annotations

from pathlib import Path

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends

from pipeline.app.dashboard import create_app


def _snapshot() -> Path:
    """The snapshot of the database the DAGs write, found by the tasks' own rule."""
    from pipeline.app.dashboard import served_snapshot
    from pipeline.settings import settings_from_env

    return served_snapshot(settings_from_env())


def _login_required() -> list[object]:
    """Airflow's own dependency: resolves the user from the request's JWT, or refuses the request."""
    from airflow.api_fastapi.core_api.security import requires_authenticated

    return [Depends(requires_authenticated())]


class ClaimwatchPlugin(AirflowPlugin):
    name = "claimwatch"
    fastapi_apps = [
        {"app": create_app(_snapshot, _login_required()), "url_prefix": "/claimwatch", "name": "claimwatch"}
    ]
    external_views = [
        {
            "name": "Disagreements",
            "href": "/claimwatch/",
            "destination": "nav",
            "category": "browse",
            "url_route": "claimwatch",
        }
    ]
