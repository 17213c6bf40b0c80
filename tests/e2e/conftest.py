"""Throwaway backing services for the end-to-end tests: a PostgreSQL database and a Redis db index.

Both services run natively on loopback (no Docker engine here): PostgreSQL at
127.0.0.1:5432 with trust authentication and Redis at 127.0.0.1:6379.  Each
test gets a PostgreSQL database of its own, dropped afterwards, and a Redis
database index nobody else uses, from which only the keys the test created are
deleted.  When a service is unreachable the test is skipped on a developer
machine and fails when CI is set.
"""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

import pytest

PG_HOST = os.environ.get("CLAIMWATCH_E2E_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CLAIMWATCH_E2E_PG_PORT", "5432"))
REDIS_HOST = os.environ.get("CLAIMWATCH_E2E_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("CLAIMWATCH_E2E_REDIS_PORT", "6379"))
REDIS_CLAIM_KEY = "claimwatch-e2e:owner"


def service_unavailable(what: str, why: object) -> NoReturn:
    message = (
        f"{what} is not reachable ({why}). The scheduler-stack test needs PostgreSQL at {PG_HOST}:{PG_PORT} "
        f"(trust auth, user postgres or root) and Redis at {REDIS_HOST}:{REDIS_PORT}"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error)")
    pytest.skip(message)


@dataclass(frozen=True)
class PostgresDatabase:
    user: str
    name: str

    @property
    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{self.user}@{PG_HOST}:{PG_PORT}/{self.name}"

    @property
    def celery_result_backend(self) -> str:
        # The driver is named: SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which is not installed.
        return f"db+postgresql+psycopg2://{self.user}@{PG_HOST}:{PG_PORT}/{self.name}"


def _admin_connection():  # type: ignore[no-untyped-def]
    """A connection to the maintenance database ``postgres`` as the first user that trust auth lets in."""
    import psycopg2

    errors = []
    for user in dict.fromkeys(("postgres", "root", getpass.getuser())):
        try:
            con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="postgres", connect_timeout=5)
        except psycopg2.OperationalError as exc:
            errors.append(f"as {user}: {str(exc).strip()}")
            continue
        con.autocommit = True
        return user, con
    service_unavailable("PostgreSQL", "; ".join(errors))


@pytest.fixture
def postgres_database() -> Iterator[PostgresDatabase]:
    """A new, empty database with a unique name; dropped (connections and all) afterwards."""
    user, con = _admin_connection()
    db = PostgresDatabase(user=user, name=f"claimwatch_e2e_{uuid.uuid4().hex[:12]}")
    try:
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{db.name}"')
    finally:
        con.close()
    try:
        yield db
    finally:
        _, con = _admin_connection()
        try:
            with con.cursor() as cur:
                # Processes killed late may still hold connections: end them, then drop.
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (db.name,),
                )
                cur.execute(f'DROP DATABASE IF EXISTS "{db.name}"')
        finally:
            con.close()


@dataclass(frozen=True)
class RedisBroker:
    index: int

    @property
    def url(self) -> str:
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.index}"


@pytest.fixture
def redis_broker() -> Iterator[RedisBroker]:
    """An empty Redis database index, claimed with a marker key; afterwards only the keys this test created go."""
    import redis

    try:
        probe = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0, socket_timeout=5)
        probe.ping()
    except redis.RedisError as exc:
        service_unavailable("Redis", exc)
    try:
        databases = int(probe.config_get("databases").get("databases", 16))
    except redis.RedisError:  # CONFIG may be disabled; 16 is Redis's default
        databases = 16
    finally:
        probe.close()

    token = uuid.uuid4().hex
    client = None
    for index in range(databases - 1, 0, -1):  # from the top: index 0 is everyone's default
        candidate = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=index, socket_timeout=5)
        if candidate.dbsize() == 0 and candidate.set(REDIS_CLAIM_KEY, token, nx=True):
            client = candidate
            break
        candidate.close()
    if client is None:
        pytest.fail(f"no empty Redis database index among 1..{databases - 1} at {REDIS_HOST}:{REDIS_PORT}")
    before = {key for key in client.scan_iter() if key != REDIS_CLAIM_KEY.encode()}
    try:
        yield RedisBroker(index=int(client.connection_pool.connection_kwargs["db"]))
    finally:
        created = [key for key in client.scan_iter() if key not in before]
        for start in range(0, len(created), 500):
            client.delete(*created[start : start + 500])
        client.close()
