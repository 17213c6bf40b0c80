"""claimwatch: monitor the numeric claims news articles make on a topic."""

__version__ = "0.1.0"
