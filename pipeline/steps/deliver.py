"""Task ``deliver``: send every pending alert, one at a time, claimed before and marked after."""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.steps.job import Job

log = logging.getLogger(__name__)


def run(job: Job) -> dict[str, int]:
    """Send every pending alert: claim, send, mark, one alert at a time.

    The claim (status 'sending', attempt counted) is committed before the send
    and the mark right after it, so a crash leaves at most the one alert in
    flight unmarked; the next run resends it under the same idempotency key,
    and a file route sees its line and does not write it again.  An alert that
    fails, or that another sender holds, stays pending and the task fails so
    Airflow retries it.
    """
    from pipeline.alerting.routes import DEFAULT_TIMEOUT_SECONDS, AlertDeliveryError, claim_lease_seconds, send_alert
    from pipeline.store.outbox import claim_alert, mark_delivered, mark_failed, pending_alerts
    from pipeline.store.session import open_store, publish_snapshot

    topic = job.topic()
    timeouts = {r.url: r.timeout_seconds for r in topic.alerts}
    with open_store(job.db) as con:
        pending = pending_alerts(con, topic.name)
    delivered, errors = 0, []
    for alert in pending:
        timeout = timeouts.get(alert.route_url, DEFAULT_TIMEOUT_SECONDS)
        with open_store(job.db) as con:
            claimed = claim_alert(con, alert.alert_id, claim_lease_seconds(timeout))
        if not claimed:
            errors.append(f"{alert.alert_id}: being sent by another run (its claim has not expired)")
            continue
        try:
            send_alert(alert, Path(job.data_dir), timeout)
        except AlertDeliveryError as exc:
            errors.append(f"{alert.alert_id}: {exc}")
            with open_store(job.db) as con:
                mark_failed(con, alert.alert_id, str(exc))
            continue
        with open_store(job.db) as con:
            mark_delivered(con, alert.alert_id)
        delivered += 1
    if pending:
        publish_snapshot(job.db)
    log.info("topic %s: %d alerts delivered, %d not", topic.name, delivered, len(errors))
    if errors:
        raise AlertDeliveryError(
            f"{len(errors)} of {len(pending)} alerts not delivered (kept pending): " + "; ".join(errors)
        )
    return {"delivered": delivered}
