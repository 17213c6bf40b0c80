"""The raw archive on a real directory: round trip, one file per content, no temporary left, damage detected."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from pipeline.ingest import archive


def test_a_page_comes_back_byte_for_byte_and_is_stored_once(tmp_path: Path) -> None:
    body = "<html><body><p>Korea\x92s troops</p></body></html>".encode("cp1252", errors="replace")
    digest = archive.put(tmp_path, body)
    assert archive.put(tmp_path, body) == digest
    assert archive.get(tmp_path, digest) == body
    files = list((tmp_path / "archive").rglob("*"))
    assert [p.name for p in files if p.is_file()] == [f"{digest}.gz"]  # no temporary file left behind
    assert archive.path_for(tmp_path, digest).parent.name == digest[:2]


def test_a_missing_or_damaged_page_is_an_error_naming_it(tmp_path: Path) -> None:
    digest = archive.put(tmp_path, b"original")
    path = archive.path_for(tmp_path, digest)
    path.write_bytes(gzip.compress(b"tampered"))
    with pytest.raises(archive.ArchiveError, match="does not match its hash"):
        archive.get(tmp_path, digest)
    path.write_bytes(b"not gzip")
    with pytest.raises(archive.ArchiveError, match="unreadable"):
        archive.get(tmp_path, digest)
    with pytest.raises(archive.ArchiveError, match="not in the archive"):
        archive.get(tmp_path, "0" * 64)


def test_only_hex_digests_name_files(tmp_path: Path) -> None:
    with pytest.raises(archive.ArchiveError):
        archive.path_for(tmp_path, "../../etc/passwd")
