"""Log files in both formats the kubelet reads: Docker's json-file lines and the CRI's (``logs.go``)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pykubelet import podlogs, safepath
from pykubelet.kubectl import logs as kubectl_logs

DOCKER = (
    b'{"log":"first line\\n","stream":"stdout","time":"2026-01-01T00:00:00.1Z"}\n'
    b'{"log":"no newline yet ","stream":"stderr","time":"2026-01-01T00:00:00.2Z"}\n'
    b'{"log":"then the rest\\n","stream":"stderr","time":"2026-01-01T00:00:00.3Z"}\n'
)
CRI = (
    b"2026-01-01T00:00:00.100000000Z stdout F first line\n"
    b"2026-01-01T00:00:00.200000000Z stderr P no newline yet \n"
    b"2026-01-01T00:00:00.300000000Z stderr F then the rest\n"
    b"2026-01-01T00:00:00.400000000Z stdout F \n"
)


@pytest.mark.parametrize("raw", [DOCKER, CRI], ids=["docker-json-file", "cri"])
def test_both_formats_give_what_the_container_wrote(raw: bytes) -> None:
    lines = list(podlogs.decode_lines(raw.splitlines(keepends=True)))
    assert lines[:2] == [b"first line\n", b"no newline yet then the rest\n"]


def test_a_line_in_neither_format_is_kept_as_it_is() -> None:
    assert list(podlogs.decode_lines([b"plain text"])) == [b"plain text\n"]


def test_tail_keeps_the_last_lines_and_bytes(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    log.write_bytes(CRI)
    assert podlogs.tail(log, lines=2) == b"no newline yet then the rest\n\n"
    assert podlogs.tail(log, max_bytes=5) == b"rest\n\n"[-5:]


def test_the_path_is_the_kubelets_and_stays_in_its_directory(tmp_path: Path) -> None:
    uid = "0123456789abcdef0123456789abcdef"
    path = podlogs.container_log_path(str(tmp_path), "default", "web-node1", uid, "nginx", 2)
    assert path == tmp_path / f"default_web-node1_{uid}" / "nginx" / "2.log"
    with pytest.raises(safepath.UnsafePathError):
        podlogs.container_log_path(str(tmp_path), "default", "web", "../../etc", "nginx", 0)
    with pytest.raises(safepath.UnsafePathError):
        podlogs.container_log_path(str(tmp_path), "default", "web", uid, "../x", 0)


def test_timestamps_are_the_runtimes_in_the_kubelets_fixed_form() -> None:
    docker = b'{"log":"hello\\n","stream":"stdout","time":"2026-12-02T07:00:00.1234Z"}\n'
    cri = [b"2026-12-02T07:00:01.5Z stdout P hel\n", b"2026-12-02T07:00:01.6Z stdout F lo\n"]
    assert list(podlogs.decode_lines([docker], timestamps=True)) == [
        b"2026-12-02T07:00:00.123400000Z hello\n"
    ]
    # a line the runtime split carries the time of its first part, once
    assert list(podlogs.decode_lines(cri, timestamps=True)) == [b"2026-12-02T07:00:01.500000000Z hello\n"]
    assert list(podlogs.decode_lines(cri)) == [b"hello\n"]
    assert podlogs.fixed_rfc3339(b"2026-12-02T07:00:00+01:00") == b"2026-12-02T07:00:00.000000000+01:00"
    assert podlogs.fixed_rfc3339(b"yesterday") == b"yesterday"


def test_following_a_line_the_runtime_split_stamps_it_once(tmp_path: Path) -> None:
    """``logs -f --timestamps`` reads the file a line at a time: the "F" half of a split line continues
    the line the "P" half began, so it gets no second time in the middle of it (kubelet's ``logs.go``)."""
    path = tmp_path / "0.log"
    path.write_bytes(b"2026-12-02T07:00:01.5Z stdout P hel\n2026-12-02T07:00:01.6Z stdout F lo\n")
    out = io.BytesIO()
    with open(path, "rb") as fh:
        path.unlink()  # the follow ends once what is in the file is out and the file is gone
        kubectl_logs._follow(fh, path, out, timestamps=True)
    assert out.getvalue() == b"2026-12-02T07:00:01.500000000Z hello\n"
