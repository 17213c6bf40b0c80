"""App: what people run: the command line, the demo, evaluation, reprocessing and the UI page.

``cli`` is the ``claimwatch`` command; ``demo`` runs the pipeline on the
bundled ``sample_site``; ``evaluation`` scores the claim reader and the engine
on labelled corpora; ``reprocess`` re-reads stored or archived pages with the
current reader; ``dashboard`` is the page the Airflow plugin mounts.
"""
