# claimwatch on the official Apache Airflow image; docker-compose.yaml builds it
# for every Airflow service (`docker compose build`).
#
# The tag follows the official naming, apache/airflow:<airflow version>-python<X.Y>.
# Keep <airflow version> equal to the apache-airflow pin in the lock files and
# <X.Y> equal to the lock's --python-version (tests/integration/test_compose_file.py
# checks both), so installing the lock never moves Airflow itself.
FROM apache/airflow:3.3.2-python3.11

# /opt/claimwatch holds the project (installed editable, see below) and the
# DuckDB data directory, which docker-compose.yaml mounts as a named volume; a new
# named volume takes its owner from this directory.
USER root
RUN mkdir -p /opt/claimwatch/data \
    && chown -R airflow:0 /opt/claimwatch \
    && chmod -R g+rwX /opt/claimwatch
USER airflow

# Runtime dependencies at the versions pinned in requirements-runtime.lock (the
# runtime part of requirements.lock, compiled against it by `make lock`, so no
# development tool and no test-only service client lands in the image), installed
# as the airflow user with apache-airflow pinned to the image's own version (the
# official "add requirement packages" recipe).
COPY --chown=airflow:0 requirements-runtime.lock /opt/claimwatch/requirements-runtime.lock
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/claimwatch/requirements-runtime.lock

# The project itself, without dependencies (they are all installed above).
# Editable on purpose: pipeline/ finds sql/ and topics/ next to itself
# (pipeline.settings.SQL_DIR and REPO_ROOT), so the package
# must be imported from /opt/claimwatch, not copied into site-packages.
# README.md is copied because pyproject.toml names it as the package readme.
COPY --chown=airflow:0 pyproject.toml README.md /opt/claimwatch/
COPY --chown=airflow:0 pipeline /opt/claimwatch/pipeline
COPY --chown=airflow:0 sql /opt/claimwatch/sql
COPY --chown=airflow:0 topics /opt/claimwatch/topics
RUN pip install --no-cache-dir --no-deps -e /opt/claimwatch

# DAGs and the UI plugin are baked in, so the image runs on its own;
# docker-compose.yaml also mounts ./dags and ./plugins over them for development.
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins

ENV CLAIMWATCH_DATA_DIR=/opt/claimwatch/data \
    CLAIMWATCH_DB=/opt/claimwatch/data/claimwatch.duckdb \
    CLAIMWATCH_TOPICS_DIR=/opt/claimwatch/topics
