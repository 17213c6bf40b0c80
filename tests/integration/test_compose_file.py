"""Static checks of docker-compose.yaml and the Dockerfile (no Docker daemon needed).

The stack cannot be started here, so these tests check what can go wrong without
starting it: the services Airflow 3 needs on the CeleryExecutor, that every
Airflow service shares one image and environment, that the metadata DB, broker
and DuckDB connection point where they should, that the DuckDB pool is created,
and that the image's Airflow version is the one pinned in requirements.lock.
When the ``docker compose`` CLI is installed, ``docker compose config`` (which
needs no daemon) validates the file as Compose itself reads it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from pipeline.settings import DB_CONN_ID, DUCKDB_POOL, settings_from_env

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
LOCK_FILE = REPO_ROOT / "requirements.lock"

AIRFLOW_SERVICES = [
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
]
REQUIRED_SERVICES = ["postgres", "redis", *AIRFLOW_SERVICES]
LONG_RUNNING = [s for s in AIRFLOW_SERVICES if s != "airflow-init"]
CONN_ENV_VAR = f"AIRFLOW_CONN_{DB_CONN_ID.upper()}"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["x-airflow-common"]


@pytest.fixture(scope="module")
def common_env(common: dict[str, Any]) -> dict[str, str]:
    return common["environment"]


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return "\n".join(command) if isinstance(command, list) else str(command)


def volume_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source, for short ("src:dst[:mode]") and long volume syntax."""
    mounts: dict[str, str] = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume.get("source", "")
        else:
            source, target, *_ = volume.split(":")
            mounts[target] = source
    return mounts


def pinned_airflow_version() -> str:
    match = re.search(r"^apache-airflow==(\S+)$", LOCK_FILE.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "requirements.lock does not pin apache-airflow"
    return match.group(1)


def dockerfile_airflow_tag() -> str:
    """The tag of the final ``FROM apache/airflow:...`` line, with ARG defaults substituted."""
    args: dict[str, str] = {}
    tags: list[str] = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"\s*ARG\s+(\w+)=(\S+)", line):
            args[m.group(1)] = m.group(2).strip("\"'")
        elif m := re.match(r"\s*FROM\s+(?:--platform=\S+\s+)?apache/airflow:(\S+)", line, re.IGNORECASE):
            tags.append(re.sub(r"\$\{?(\w+)\}?", lambda a: args.get(a.group(1), a.group(0)), m.group(1)))
    assert tags, "Dockerfile has no FROM apache/airflow:<tag> line"
    return tags[-1]


def test_compose_file_parses(compose: dict[str, Any]) -> None:
    assert isinstance(compose.get("services"), dict)
    assert isinstance(compose.get("x-airflow-common"), dict)


@pytest.mark.parametrize("name", REQUIRED_SERVICES)
def test_required_service_is_defined(services: dict[str, Any], name: str) -> None:
    assert name in services


def test_no_airflow_2_webserver(services: dict[str, Any]) -> None:
    assert "airflow-webserver" not in services
    assert all(command_text(s).strip() != "webserver" for s in services.values())
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"


def test_common_env_uses_the_celery_executor(common_env: dict[str, str]) -> None:
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert str(common_env["AIRFLOW__CORE__LOAD_EXAMPLES"]).lower() == "false"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_uses_the_common_anchor(
    services: dict[str, Any], common: dict[str, Any], common_env: dict[str, str], name: str
) -> None:
    service = services[name]
    assert service.get("image") == common["image"]
    assert service.get("build") == common["build"]
    env = service["environment"]
    for key, value in common_env.items():
        assert env.get(key) == value, f"{name} does not carry {key} from x-airflow-common"


def test_common_anchor_builds_this_repository(common: dict[str, Any]) -> None:
    build = common["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert (REPO_ROOT / context / "Dockerfile").is_file()


def test_broker_is_redis_and_metadata_db_is_postgres(common_env: dict[str, str], services: dict[str, Any]) -> None:
    broker = urlsplit(common_env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis"
    assert broker.hostname == "redis"
    db = urlsplit(common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert db.scheme.startswith("postgresql")
    assert db.hostname == "postgres"
    backend = urlsplit(common_env["AIRFLOW__CELERY__RESULT_BACKEND"])
    # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3, which Airflow's image does not ship.
    assert backend.scheme == "db+postgresql+psycopg2"
    assert backend.hostname == "postgres"
    postgres_env = services["postgres"]["environment"]
    assert db.username == postgres_env["POSTGRES_USER"]
    assert db.path.lstrip("/") == postgres_env["POSTGRES_DB"]


def test_execution_api_points_at_the_api_server(common_env: dict[str, str]) -> None:
    url = urlsplit(common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-apiserver"
    assert url.path.rstrip("/") == "/execution"


def test_simple_auth_manager_is_configured(common_env: dict[str, str], services: dict[str, Any]) -> None:
    assert common_env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    passwords = common_env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    for name in ("airflow-apiserver", "airflow-init"):
        mounted = volume_mounts(services[name])
        assert any(passwords.startswith(target.rstrip("/") + "/") for target in mounted), name
    assert passwords in command_text(services["airflow-init"])


SECRET_VARIABLES = ("AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD")
_REFERENCE = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(text: str, environ: dict[str, str]) -> str:
    """Compose's interpolation of one value: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?message}`` (an error)."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m[1], m[2], m[3]
        value = environ.get(name)
        if op in (":?", "?") and not value:
            raise ValueError(f"required variable {name} is missing a value: {arg}")
        if op in (":-", "-") and not value:
            return arg
        return value or ""

    return _REFERENCE.sub(one, text.replace("$$", "\0")).replace("\0", "$")


@pytest.mark.parametrize(
    "key", ["AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY"]
)
def test_secrets_are_required_from_the_environment(common_env: dict[str, str], key: str) -> None:
    assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", common_env[key]), f"{key} should be ${{VAR:?message}}"


def test_no_secret_has_a_default(compose: dict[str, Any]) -> None:
    defaults = {m[1]: m[3] for value in strings_in(compose) for m in _REFERENCE.finditer(value) if m[2] == ":-"}
    assert not set(SECRET_VARIABLES) & set(defaults), defaults
    assert "admin:admin" not in COMPOSE_FILE.read_text(encoding="utf-8").replace("${AIRFLOW_ADMIN_USERNAME:-admin}", "")


@pytest.mark.parametrize("missing", SECRET_VARIABLES)
def test_the_stack_refuses_to_start_while_a_secret_is_unset(compose: dict[str, Any], missing: str) -> None:
    environ = {name: "s3cr3t-value" for name in SECRET_VARIABLES if name != missing}
    with pytest.raises(ValueError, match=f"required variable {missing} is missing a value"):
        for value in strings_in(compose):
            interpolate(value, environ)
    for value in strings_in(compose):  # and with every secret set, nothing is missing
        interpolate(value, {name: "s3cr3t-value" for name in SECRET_VARIABLES})


def strings_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in strings_in(key) + strings_in(value)]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    return [node] if isinstance(node, str) else []


def test_every_dollar_is_interpolation_or_escaped(compose: dict[str, Any]) -> None:
    """Compose interpolates ``${VAR}``/``${VAR:-default}``; a ``$`` meant for the shell must be ``$$``."""
    bad = [
        value for value in strings_in(compose) if re.search(r"\$(?!\{\w+(?::?[-?+][^}]*)?\})", value.replace("$$", ""))
    ]
    assert not bad, f"unescaped $ in docker-compose.yaml: {bad}"


def test_duckdb_connection_points_into_the_data_volume(common_env: dict[str, str]) -> None:
    conn = json.loads(common_env[CONN_ENV_VAR])
    # pipeline.orchestration.resolve_db takes the DuckDB file from the connection's host.
    db_path = Path(conn["host"])
    settings = settings_from_env(common_env)
    assert db_path == settings.db_path
    assert db_path.parent == settings.data_dir == Path("/opt/claimwatch/data")
    assert settings.topics_dir == Path("/opt/claimwatch/topics")


@pytest.mark.parametrize("name", LONG_RUNNING + ["airflow-init"])
def test_data_volume_is_mounted(
    compose: dict[str, Any], services: dict[str, Any], common_env: dict[str, str], name: str
) -> None:
    source = volume_mounts(services[name]).get(common_env["CLAIMWATCH_DATA_DIR"])
    assert source, f"{name} does not mount {common_env['CLAIMWATCH_DATA_DIR']}"
    assert source in compose["volumes"], "the data directory should be a named volume"


def test_every_airflow_service_shares_the_same_data_volume(
    services: dict[str, Any], common_env: dict[str, str]
) -> None:
    sources = {volume_mounts(services[n])[common_env["CLAIMWATCH_DATA_DIR"]] for n in AIRFLOW_SERVICES}
    assert len(sources) == 1


def test_init_migrates_and_creates_the_one_slot_pool(services: dict[str, Any], common_env: dict[str, str]) -> None:
    script = command_text(services["airflow-init"])
    assert "airflow db migrate" in script
    assert re.search(rf"airflow pools set {DUCKDB_POOL} 1 \S", script)
    db = json.loads(common_env[CONN_ENV_VAR])["host"]
    assert f"claimwatch migrate --db {db}" in script
    assert script.index("airflow db migrate") < script.index(f"airflow pools set {DUCKDB_POOL}")


@pytest.mark.parametrize("name", ["postgres", "redis", *LONG_RUNNING])
def test_service_has_a_healthcheck(services: dict[str, Any], name: str) -> None:
    assert services[name]["healthcheck"]["test"]


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_service_waits_for_healthy_postgres_and_redis(services: dict[str, Any], name: str) -> None:
    depends = services[name]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_service_waits_for_init(services: dict[str, Any], name: str) -> None:
    assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_worker_waits_for_a_healthy_api_server(services: dict[str, Any]) -> None:
    assert services["airflow-worker"]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    assert services["airflow-worker"]["command"] == "celery worker"


def test_dockerfile_airflow_version_matches_the_lock() -> None:
    tag = dockerfile_airflow_tag()
    version, _, python = tag.partition("-python")
    assert version == pinned_airflow_version()
    lock_python = re.search(r"--python-version (\d+\.\d+)", LOCK_FILE.read_text(encoding="utf-8"))
    if python and lock_python:
        assert python == lock_python.group(1)


def _pins(path: Path) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {name.lower(): version for name, version in pins}


def test_runtime_lock_is_the_runtime_part_of_the_full_lock() -> None:
    runtime, full = _pins(REPO_ROOT / "requirements-runtime.lock"), _pins(LOCK_FILE)
    assert runtime and {k: full.get(k) for k in runtime} == runtime
    assert not {"pytest", "ruff", "mypy", "redis", "psycopg2-binary"} & runtime.keys()


def test_dockerfile_installs_the_lock_and_the_project() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "requirements-runtime.lock" in text
    assert re.search(r"pip install [^\n]*--no-deps", text)
    for path in ("pipeline", "sql", "topics", "pyproject.toml", "dags", "plugins"):
        assert re.search(rf"^COPY\b[^\n]*\b{re.escape(path)}\b", text, re.MULTILINE), f"Dockerfile does not copy {path}"


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def test_docker_compose_config_accepts_the_file() -> None:
    if not docker_compose_available():
        pytest.skip("the docker compose CLI plugin is not installed (`docker compose version` fails)")
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
