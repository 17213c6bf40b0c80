"""Staging files between tasks."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.steps.staging import write_json


def test_staging_files_are_replaced_whole_and_leave_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "stage" / "pages" / "000001.json"
    write_json(target, {"html": "é" * 10})
    write_json(target, {"html": "second"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"html": "second"}
    assert [p.name for p in target.parent.iterdir()] == ["000001.json"]
