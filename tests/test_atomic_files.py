from pathlib import Path

import pytest

from pipelines.atomic_files import written_atomically


def test_the_file_is_replaced_whole_or_not_at_all(tmp_path: Path):
    target = tmp_path / "manifest.json"
    target.write_text("old")
    with written_atomically(target) as tmp:
        tmp.write_text("new")
        assert target.read_text() == "old"  # readers see the old file until the rename
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError), written_atomically(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
