"""Quality: the Great Expectations suites a batch must pass before it is stored, and the gate that runs them.

Runs GX Core on pandas frames of the batch's records (the GX SQL datasource
does not work on DuckDB), so a bad batch is stopped and kept for inspection
before anything reaches the database.  ``drift`` compares a batch's measures
with the topic's recent runs (a slow break that passes every expectation).
"""
