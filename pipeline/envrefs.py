"""``${VAR}`` references in configured URLs: expanded from the environment when used, redacted everywhere else.

Topic files are committed and shared, so a feed token or webhook key is
written as ``${VAR}`` and read from the environment only when the URL is
requested.  Anything derived from the expanded URL (errors, log lines, rows
in the database) passes through ``redact`` first, which writes the reference
back in place of the value.

URLs derived from a configured one (a feed's relative links) keep the
reference too, and are expanded only when requested.  So that a ``${VAR}``
in such a URL can only be one written back by ``redact``, a literal ``${``
arriving from outside (a feed's link, a redirect) is percent-encoded by
``escape`` first: a hostile feed cannot name a variable and have its value sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MissingVariableError(ValueError):
    """A ``${VAR}`` whose variable is not set."""


@dataclass(frozen=True, slots=True)
class Expanded:
    """A configured text with its references filled in, and the values that must not leak."""

    text: str
    secrets: dict[str, str] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)


def expand(text: str, environ: Mapping[str, str], *, what: str = "a URL") -> Expanded:
    """Replace each ``${VAR}`` with its value; a missing variable is an error that names it, not its value."""
    secrets: dict[str, str] = {}

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        found = environ.get(name)
        if not found:
            raise MissingVariableError(f"environment variable {name} is not set (needed by {what})")
        secrets[name] = found
        return found

    return Expanded(ENV_REF.sub(value, text), secrets)


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """``text`` with every secret value (as written or percent-encoded) replaced by its ``${VAR}``."""
    pairs: list[tuple[str, str]] = []
    for name, secret in secrets.items():
        for form in {secret, quote(secret, safe=""), quote(secret, safe="/:@")}:
            pairs.append((form, "${" + name + "}"))
    for form, ref in sorted(pairs, key=lambda p: len(p[0]), reverse=True):
        if form:
            text = text.replace(form, ref)
    return text


def escape(text: str) -> str:
    """``text`` from outside the configuration with every ``${`` percent-encoded (``$%7B``, what an
    HTTP client sends for it anyway), so it never reads as a reference."""
    return text.replace("${", "$%7B")


def references(text: str) -> set[str]:
    """The variable names ``text`` refers to."""
    return set(ENV_REF.findall(text))


class _RedactingFilter(logging.Filter):
    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__()
        self.secrets = dict(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


@contextmanager
def redacted_logs(secrets: Mapping[str, str], names: tuple[str, ...] = ("httpx", "httpcore")) -> Iterator[None]:
    """Redact secrets from what the HTTP libraries log (they log each request URL) while the block runs."""
    if not secrets:
        yield
        return
    flt = _RedactingFilter(secrets)
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        lg.addFilter(flt)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeFilter(flt)


__all__ = [
    "ENV_REF",
    "Expanded",
    "MissingVariableError",
    "escape",
    "expand",
    "redact",
    "redacted_logs",
    "references",
]
