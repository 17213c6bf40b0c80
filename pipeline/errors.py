"""The one base of errors that retrying cannot fix.

Bad configuration (a topic file), a batch that fails its quality suites:
the same input fails the same way on every try, so the Airflow edge fails
such a task at once instead of retrying it (``pipeline.orchestration``).
"""

from __future__ import annotations


class PermanentError(Exception):
    """Raised for input that no retry can fix; the task fails without retries."""
