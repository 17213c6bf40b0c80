"""Alerting: what an alert says and how it reaches a person.

``messages`` builds the stored payload and the plain-text message of a
contradiction alert (pure), ``routes`` sends one alert to its route (a file,
a webhook or any Apprise channel) exactly once per file and with an
idempotency key elsewhere, and ``operations`` builds and sends the alerts
about the pipeline itself (a failed run, a broken or silent feed).
"""
