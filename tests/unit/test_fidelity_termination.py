"""Termination messages as the kubelet reads them (``getTerminationMessage``,
``readLastStringFromContainerLogs``): the file's last 4096 bytes; FallbackToLogsOnError reads the last
80 lines (at most 2048 bytes) of the log of a failed container whose file is empty.
"""

from __future__ import annotations

import json
from pathlib import Path

from pykubelet import podlogs
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import make_pod

POD = make_pod()


def _message_file(manager: RuntimeManager, data: bytes) -> None:
    path = Path(manager.settings.root_dir) / "pods" / POD.uid / "containers" / "app" / f"{0:08x}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _exited(
    log_path: str, *, code: int = 1, policy: str = "FallbackToLogsOnError", reason: str = "Error"
) -> Container:
    record = Container(
        "c" * 64, "app", POD.uid, POD.name, POD.namespace, "container", 0, "exited", {},
        annotations={L.TERMINATION_MESSAGE_POLICY: policy}, exit_code=code, reason=reason, log_path=log_path,
    )  # fmt: skip
    return record


def _docker_log(path: Path, lines: list[str]) -> str:
    with open(path, "w") as fh:
        for n, text in enumerate(lines):
            stream = "stderr" if n % 2 else "stdout"
            fh.write(
                json.dumps({"log": text + "\n", "stream": stream, "time": "2026-01-01T00:00:00Z"}) + "\n"
            )
    return str(path)


def test_the_file_keeps_its_last_4096_bytes(manager: RuntimeManager) -> None:
    _message_file(manager, b"A" * 100 + b"B" * 4096)
    assert manager.termination_message(POD.uid, "app", 0) == "B" * 4096


def test_fallback_reads_the_last_80_lines_of_a_docker_json_log(
    manager: RuntimeManager, tmp_path: Path
) -> None:
    _message_file(manager, b"")
    log = _docker_log(tmp_path / "json.log", [f"line {n}" for n in range(100)])
    message = manager.termination_message(POD.uid, "app", 0, _exited(log))
    assert message == "".join(f"line {n}\n" for n in range(20, 100))


def test_fallback_keeps_at_most_2048_bytes(manager: RuntimeManager, tmp_path: Path) -> None:
    log = _docker_log(tmp_path / "json.log", ["x" * 99 for _ in range(60)])
    message = manager.termination_message(POD.uid, "app", 0, _exited(log))
    assert len(message) == 2048 and message.endswith("x\n")


def test_no_fallback_for_success_file_policy_or_a_container_that_never_ran(
    manager: RuntimeManager, tmp_path: Path
) -> None:
    log = _docker_log(tmp_path / "json.log", ["boom"])
    assert manager.termination_message(POD.uid, "app", 0, _exited(log, code=0)) == ""
    assert manager.termination_message(POD.uid, "app", 0, _exited(log, policy="File")) == ""
    assert manager.termination_message(POD.uid, "app", 0, _exited(log, reason="ContainerCannotRun")) == ""
    assert manager.termination_message(POD.uid, "app", 0, _exited(log)) == "boom\n"


def test_a_written_file_wins_over_the_log(manager: RuntimeManager, tmp_path: Path) -> None:
    _message_file(manager, b"bye")
    log = _docker_log(tmp_path / "json.log", ["boom"])
    assert manager.termination_message(POD.uid, "app", 0, _exited(log)) == "bye"


def test_the_cri_log_format_joins_partial_lines(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    path.write_text(
        "2026-01-01T00:00:00.1Z stdout P half \n2026-01-01T00:00:00.2Z stdout F and half\n"
        "2026-01-01T00:00:00.3Z stderr F err\n"
    )
    assert podlogs.tail(path, 80, 2048) == b"half and half\nerr\n"
