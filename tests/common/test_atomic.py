"""The one atomic writer: unpredictable temp names, nothing left on failure, publish hooks, exclusive create."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from sohoa.common.atomic import atomic_writer, copy_atomic, is_temp_name, write_bytes_atomic
from sohoa.common.errors import OutputError
from tests.durability import Fsyncs


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_temp_file_is_private_unpredictable_and_renamed(tmp_path: Path) -> None:
    target = tmp_path / "ho-so.pdf"
    seen: list[Path] = []
    for _ in range(2):
        with atomic_writer(target) as (stream, temp):
            stream.write(b"%PDF-")
            seen.append(temp)
            assert temp.parent == tmp_path and is_temp_name(temp.name), temp
            assert str(os.getpid()) not in temp.name, "temp names must not be derived from the pid"
            assert temp.stat().st_mode & 0o077 == 0, "the temp file is private while being written"
    assert seen[0] != seen[1], "every temp name is new"
    assert target.read_bytes() == b"%PDF-" and target.stat().st_mode & 0o777 == 0o644
    assert _leftovers(tmp_path) == []


def test_failure_inside_the_block_or_the_hook_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as (stream, _):
        stream.write(b"new")
        raise RuntimeError("conformance failed")

    def refuse() -> None:
        assert _leftovers(tmp_path), "the hook runs while the data sits durable in the temp file"
        raise RuntimeError("audit log not writable")

    with pytest.raises(RuntimeError, match="audit"):
        write_bytes_atomic(target, b"new", before_publish=refuse)
    assert target.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_os_errors_become_the_callers_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "x.pdf"
    with pytest.raises(OutputError) as info:
        write_bytes_atomic(missing, b"x")
    assert str(missing) in info.value.message("en")
    with pytest.raises(LookupError):
        write_bytes_atomic(missing, b"x", on_error=lambda exc: LookupError(exc.strerror))
    write_bytes_atomic(missing, b"x", make_parents=True)
    assert missing.read_bytes() == b"x"


def test_exclusive_publish_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "secret"
    write_bytes_atomic(target, b"first", mode=0o600, exclusive=True)
    assert target.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        write_bytes_atomic(target, b"second", exclusive=True)
    assert target.read_bytes() == b"first" and _leftovers(tmp_path) == []


def test_copy_hashes_and_verifies_before_publishing(tmp_path: Path) -> None:
    target = tmp_path / "copy.pdf"
    digest = copy_atomic(io.BytesIO(b"abc" * 1000), target)
    assert digest == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert target.read_bytes() == b"abc" * 1000

    def wrong(_digest: str) -> None:
        raise ValueError("changed while copied")

    with pytest.raises(ValueError):
        copy_atomic(io.BytesIO(b"other"), target, verify=wrong)
    assert target.read_bytes() == b"abc" * 1000 and _leftovers(tmp_path) == []


def test_new_folders_are_fsynced_in_their_parents_before_the_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``make_parents``: a fresh ``ab/cd/`` folder of the store survives a power cut with its file."""
    fsyncs = Fsyncs(monkeypatch)
    target = tmp_path / "ab" / "cd" / "x.pdf"
    write_bytes_atomic(target, b"%PDF-", make_parents=True)
    synced = fsyncs.paths
    assert [p for p in synced if not p.endswith(".part")] == [str(tmp_path), str(tmp_path / "ab"),
                                                              str(tmp_path / "ab" / "cd")]
    assert synced.index(str(tmp_path / "ab")) < next(i for i, p in enumerate(synced) if p.endswith(".part"))
    fsyncs.clear()
    write_bytes_atomic(target.with_name("y.pdf"), b"%PDF-", make_parents=True)  # folders there: only the file's
    synced = fsyncs.paths
    assert [p for p in synced if not p.endswith(".part")] == [str(tmp_path / "ab" / "cd")]
    fsyncs.clear()
    write_bytes_atomic(target.with_name("z.pdf"), b"%PDF-", sync_dir=False)  # a step file: its data only
    synced = fsyncs.paths
    assert len(synced) == 1 and synced[0].endswith(".part") and target.with_name("z.pdf").is_file()
