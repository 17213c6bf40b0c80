"""The raw archive: every fetched page kept, gzip-compressed, by the SHA-256 of its bytes.

Extraction improves; pages disappear or change.  Keeping the bytes as the
server sent them lets ``claimwatch reprocess --since`` re-extract text and
claims from history with no network at all.  Files are named by content, so
a page served twice (or by two topics) is stored once, and written to a
temporary file, fsynced and renamed, so a crash leaves a whole file or none.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

ARCHIVE_DIR = "archive"


class ArchiveError(RuntimeError):
    """An archived page that is missing or does not match its hash."""


def archive_root(data_dir: str | Path) -> Path:
    return Path(data_dir) / ARCHIVE_DIR


def path_for(data_dir: str | Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ArchiveError(f"not a SHA-256 hex digest: {sha256!r}")
    return archive_root(data_dir) / sha256[:2] / f"{sha256}.gz"


def put(data_dir: str | Path, body: bytes) -> str:
    """Store ``body`` (if not stored already) and return its SHA-256, the key to read it back."""
    digest = hashlib.sha256(body).hexdigest()
    target = path_for(data_dir, digest)
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{digest[:8]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(body)
        with open(tmp_name, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return digest


def get(data_dir: str | Path, sha256: str) -> bytes:
    """The archived bytes of ``sha256``, checked against the hash."""
    path = path_for(data_dir, sha256)
    try:
        body = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise ArchiveError(f"page {sha256} is not in the archive ({path})") from None
    except (OSError, EOFError) as exc:
        raise ArchiveError(f"archived page {path} is unreadable ({exc})") from None
    if hashlib.sha256(body).hexdigest() != sha256:
        raise ArchiveError(f"archived page {path} does not match its hash")
    return body


__all__ = ["ARCHIVE_DIR", "ArchiveError", "archive_root", "get", "path_for", "put"]
