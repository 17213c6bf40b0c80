"""Ingest: from a topic's feeds to clean article records, one page at a time.

Feeds are polled (``feeds``), pages fetched politely and safely over HTTP(S)
(``http``, each request under one deadline, ``deadline``; ``polite``) and
archived raw (``archive``); the main text is extracted (``article``), pages
that are not articles are recognised (``pages``), addresses normalised
(``urls``), relevance judged (``relevance``), copies recognised (``dedup``)
and feed health judged (``health``).  Everything here is pure or talks only
to the network and the file system; nothing opens the database.
"""
