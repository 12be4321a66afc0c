"""kubectl's printing rules: HumanDuration and the STATUS column of ``get pods``."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from pykubelet.kubectl.describe import describe_events
from pykubelet.kubectl.printers import human_duration, parse_time, pod_row, table

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-0.5, "0s"),
        (0, "0s"),
        (106, "106s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 1200, "3h20m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400, "8d"),
        (730 * 86400, "2y"),
        (745 * 86400, "2y15d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_parse_time_takes_config_seen_nanoseconds_and_offsets() -> None:
    assert parse_time("2026-11-27T13:00:00.123456789+01:00") == datetime(
        2026, 11, 27, 12, 0, 0, 123456, tzinfo=timezone.utc
    )
    assert parse_time("2026-11-27T12:00:00Z") == NOW
    assert parse_time(None) is None


def pod(
    statuses: list[dict[str, Any]],
    phase: str = "Running",
    init: list[dict[str, Any]] | None = None,
    conditions: dict[str, str] | None = None,
    containers: int | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": s["name"]} for s in statuses]
        if containers is None
        else [{"name": f"c{i}"} for i in range(containers)],
        "nodeName": "n1",
    }
    status: dict[str, Any] = {
        "phase": phase,
        "containerStatuses": statuses,
        "conditions": [{"type": k, "status": v} for k, v in (conditions or {}).items()],
    }
    if init is not None:
        spec["initContainers"] = [{"name": s["name"]} for s in init]
        status["initContainerStatuses"] = init
    return {
        "metadata": {"name": "p", "annotations": {"kubernetes.io/config.seen": "2026-11-27T11:58:00Z"}},
        "spec": spec,
        "status": status,
    }


def running(name: str, ready: bool = True, restarts: int = 0) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {}}, "lastState": {}}


def test_running_pod_row() -> None:
    assert pod_row(pod([running("a"), running("b")]), NOW) == ["p", "2/2", "Running", "0", "2m"]


def test_crash_loop_row_shows_the_last_restart() -> None:
    looping = {
        "name": "a",
        "ready": False,
        "restartCount": 7,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-27T11:58:14Z"}},
    }
    assert pod_row(pod([looping]), NOW) == ["p", "0/1", "CrashLoopBackOff", "7 (106s ago)", "2m"]


def test_init_rows() -> None:
    init_running = {"name": "i", "restartCount": 0, "state": {"running": {}}, "lastState": {}}
    app_waiting = {
        "name": "a",
        "restartCount": 0,
        "state": {"waiting": {"reason": "PodInitializing"}},
        "lastState": {},
    }
    assert pod_row(pod([app_waiting], "Pending", init=[init_running]), NOW)[2] == "Init:0/1"
    init_crash = {
        "name": "i",
        "restartCount": 2,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {},
    }
    assert pod_row(pod([app_waiting], "Pending", init=[init_crash]), NOW)[2] == "Init:CrashLoopBackOff"
    init_done = {
        "name": "i",
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        "lastState": {},
    }
    assert pod_row(pod([app_waiting], "Pending", init=[init_done]), NOW)[2] == "PodInitializing"


def test_completed_and_wide_rows() -> None:
    done = {
        "name": "a",
        "ready": False,
        "restartCount": 0,
        "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
        "lastState": {},
    }
    assert pod_row(pod([done], "Succeeded"), NOW)[2] == "Completed"
    no_status = pod([], "Pending", containers=1)
    no_status["status"]["podIPs"] = [{"ip": "172.17.0.2"}]
    assert pod_row(no_status, NOW, wide=True) == [
        "p",
        "0/1",
        "Pending",
        "0",
        "2m",
        "172.17.0.2",
        "n1",
        "<none>",
        "<none>",
    ]


def test_table_pads_like_kubectls_tabwriter() -> None:
    assert table(["NAME", "READY"], [["web", "1/1"]]) == "NAME   READY\nweb    1/1"


def test_events_rows_aggregate_counts() -> None:
    events = [
        {
            "type": "Warning",
            "reason": "BackOff",
            "count": 3,
            "firstTimestamp": "2026-11-27T11:56:00Z",
            "lastTimestamp": "2026-11-27T11:59:00Z",
            "source": {"component": "kubelet"},
            "message": "Back-off restarting failed container",
        }
    ]
    text = describe_events(events, NOW)
    assert text.splitlines()[0] == "Events:"
    assert "60s (x3 over 4m)" in text
    assert describe_events([], NOW) == "Events:            <none>"
