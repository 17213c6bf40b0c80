"""Orchestration: the Airflow edge, where DAG runs become step calls.

``edge`` is what the DAG files import (job planning, retry defaults,
``run_step``, which runs the step module named as the task id and records
failures in the run's error ledger, ``ledger``), ``stepprocess`` runs a step
in a fresh interpreter, ``runner`` drives both DAGs with ``dag.test()`` for the
command line, and ``notifiers`` sends an operations alert when a run fails.
"""
