"""Store: DuckDB, the one place that reads and writes the warehouse.

``db`` opens the file (waiting briefly on another process's lock and naming
it), runs one transaction and applies migrations; ``session`` opens a
migrated store and publishes the analysts' snapshot.  Then one module per
family of tables: ``articles`` (articles, fingerprints and the copy rules
applied), ``claims``, ``seen`` (what happened to every URL), ``polls`` (feed
polls, health and the raw archive's index), ``batches`` (a whole ingest batch
in one transaction), ``checks`` (figure histories and incidents the engine
reads and writes), ``outbox`` (the alert outbox) and ``incidents`` (on-call
actions).  Values are always bound parameters.
"""
