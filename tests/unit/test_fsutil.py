import os
import stat

import pytest

from models.fsutil import atomic_path, write_json, write_text


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_text_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_text(target, "un")
    write_text(target, "deux")
    assert target.read_text(encoding="utf-8") == "deux"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]
    assert _mode(target) == 0o644


def test_private_mode_is_set_before_writing(tmp_path):
    with atomic_path(tmp_path / "secret", mode=0o600) as tmp:
        assert _mode(tmp) == 0o600
        tmp.write_text("s")
    assert _mode(tmp_path / "secret") == 0o600


def test_failure_keeps_the_previous_version(tmp_path):
    target = tmp_path / "m.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partiel")
            raise RuntimeError("interrompu")
    assert target.read_text(encoding="utf-8") == '{\n  "v": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
