"""``pykubelet crictl`` without a runtime: CRI messages built here, crictl's text expected back.

The expectations are cri-tools' own (cmd/crictl: display.go's tabwriter, sandbox.go's and container.go's
columns and status JSON, image.go's repo/tag split, docker/go-units' durations and sizes). The command's
errors that need no runtime (a Docker endpoint, a socket that is missing or not ours, an unknown or
ambiguous id, a bad label) are checked through ``commands.main``, as a user meets them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cri_api.v1 import api_pb2 as pb

from pykubelet.kubectl import commands
from pykubelet.kubectl.crictl import command, views

NOW = 1_800_000_000.0  # seconds
NS = 10**9
SANDBOX_ID = "6b8121cf52724fcbfd882f1f01162cca63acae989c77cfdbbf4e673e725259de"
IMAGE_ID = "sha256:0a29e3874d9bb6d030a49335587b13c53826fcbdea8bd0ceb15535c9ff403445"


def sandbox(
    name: str,
    created_ago: float,
    sid: str = SANDBOX_ID,
    state: pb.PodSandboxState.ValueType = pb.SANDBOX_READY,
) -> pb.PodSandbox:
    return pb.PodSandbox(
        id=sid,
        metadata=pb.PodSandboxMetadata(name=name, namespace="default", uid="u1", attempt=0),
        state=state,
        created_at=int((NOW - created_ago) * NS),
        labels={"io.kubernetes.pod.name": name},
    )


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.5, "Less than a second"),
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (5399, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (48 * 3600, "2 days"),
        (14 * 86400, "2 weeks"),
        (60 * 86400, "2 months"),
        (800 * 86400, "2 years"),
    ],
)
def test_durations_are_go_units(seconds: float, words: str) -> None:
    assert views.human_duration(seconds) == words


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0B"), (999, "999B"), (708_000, "708kB"), (2_141_775, "2.14MB"), (90_861_714, "90.9MB")],
)
def test_sizes_are_decimal_with_three_digits(size: int, text: str) -> None:
    assert views.human_size(size) == text


def test_pods_table_has_crictls_columns_newest_first() -> None:
    older = sandbox("old", 7200, sid="a" * 64, state=pb.SANDBOX_NOTREADY)
    text = views.pods_table([older, sandbox("web", 4)], NOW)
    lines = text.splitlines()
    assert lines[0].split() == ["POD", "ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]
    assert lines[1] == (
        "6b8121cf52724       4 seconds ago       Ready               web                 default"
        "             0                   (default)"
    )
    assert lines[2].startswith("aaaaaaaaaaaaa       2 hours ago         NotReady")
    assert SANDBOX_ID[:13] + " " in text and SANDBOX_ID not in text
    assert SANDBOX_ID in views.pods_table([sandbox("web", 4)], NOW, no_trunc=True)


def test_tabwriter_widens_a_column_past_twenty_by_three_spaces() -> None:
    text = views.tabulate([["A", "B"], ["x" * 25, "y"]])
    assert text.splitlines() == ["A" + " " * 27 + "B", "x" * 25 + "   y"]


def test_ps_table_names_pod_and_namespace_from_labels_and_shortens_digests() -> None:
    container = pb.Container(
        id="5533556796c005b7567d742aaaaac019190ddb566ed3c744f4be5114166feb68",
        pod_sandbox_id=SANDBOX_ID,
        metadata=pb.ContainerMetadata(name="nginx", attempt=2),
        image=pb.ImageSpec(image=IMAGE_ID),
        state=pb.CONTAINER_EXITED,
        created_at=int((NOW - 90) * NS),
        labels={"io.kubernetes.pod.name": "web-node", "io.kubernetes.pod.namespace": "default"},
    )
    bare = pb.Container(
        id="b" * 64, metadata=pb.ContainerMetadata(name="x"), image=pb.ImageSpec(image="busybox:1.35")
    )
    header, row, other = (
        line.split("   ") for line in views.containers_table([container, bare], NOW).splitlines()
    )
    assert [c.strip() for c in header if c.strip()] == views.PS_HEADERS
    cells = [c.strip() for c in row if c.strip()]
    expected = ["5533556796c00", "0a29e3874d9bb", "About a minute ago", "Exited", "nginx", "2"]
    assert cells == [*expected, SANDBOX_ID[:13], "web-node", "default"]
    assert [c.strip() for c in other if c.strip()][-2:] == ["unknown", "unknown"]
    assert "busybox:1.35" in " ".join(other)


def test_images_split_repo_and_tag_sorted_by_tag() -> None:
    images = [
        pb.Image(id=IMAGE_ID, repo_tags=["docker.io/library/nginx:1.22"], size=90_861_714),
        pb.Image(id="sha256:" + "1" * 64, repo_tags=["registry.k8s.io/pause:3.10"], size=708_000),
        pb.Image(id="sha256:" + "2" * 64, repo_digests=["docker.io/library/busybox@sha256:" + "3" * 64]),
    ]
    rows = [line.split() for line in views.images_table(images).splitlines()]
    assert rows == [
        ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"],
        ["docker.io/library/nginx", "1.22", "0a29e3874d9bb", "90.9MB"],
        ["registry.k8s.io/pause", "3.10", "1111111111111", "708kB"],
        ["docker.io/library/busybox", "<none>", "2222222222222", "0B"],
    ]


def test_inspectp_document_is_sorted_camel_case_with_rfc3339_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    status = pb.PodSandboxStatus(
        id=SANDBOX_ID,
        metadata=pb.PodSandboxMetadata(name="web", namespace="default", uid="u1"),
        state=pb.SANDBOX_READY,
        created_at=1_796_177_423_304_230_657,
        network=pb.PodSandboxNetworkStatus(ip="10.97.0.20"),
        labels={"b": "2", "a": "<1>"},
    )
    info = {"info": '{"pid": 42, "cniResult": {}}', "version": '"v1"'}
    document = views.status_document(status, info)
    text = views.go_json(document, sort_keys=True)
    parsed = json.loads(text)
    assert list(parsed) == ["info", "status", "version"] and parsed["version"] == "v1"
    assert parsed["info"] == {"cniResult": {}, "pid": 42}
    body = parsed["status"]
    assert body["createdAt"] == "2026-12-02T02:10:23.304230657Z"
    assert body["state"] == "SANDBOX_READY" and body["network"]["ip"] == "10.97.0.20"
    assert body["linux"] is None and body["runtimeHandler"] == ""  # unset message null, scalars emitted
    assert list(body) == sorted(body) and list(body["labels"]) == ["a", "b"]
    assert '"a": "\\u003c1\\u003e"' in text  # Go's json escapes <, > and &


def test_inspect_times_follow_the_container_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    created = pb.ContainerStatus(id="c", state=pb.CONTAINER_CREATED, created_at=5 * NS)
    body = views.status_document(created, {})["status"]
    assert body["startedAt"] == body["finishedAt"] == "0001-01-01T00:00:00Z"
    assert body["createdAt"] == "1970-01-01T00:00:05Z" and body["exitCode"] == 0
    exited = pb.ContainerStatus(
        id="c", state=pb.CONTAINER_EXITED, created_at=5 * NS, started_at=6 * NS, finished_at=7 * NS + 500
    )
    body = views.status_document(exited, {})["status"]
    assert body["startedAt"] == "1970-01-01T00:00:06Z"
    assert body["finishedAt"] == "1970-01-01T00:00:07.0000005Z"


def test_list_json_keeps_protojson_field_order_and_sorted_maps() -> None:
    image = pb.Image(id=IMAGE_ID, repo_tags=["nginx:1.22"], size=3)
    assert list(views.message_dict(image)) == ["id", "repoTags", "repoDigests", "size", "username", "pinned"]
    c = pb.Container(id="x", labels={"z": "1", "a": "2"}, metadata=pb.ContainerMetadata(name="n"))
    data = views.message_dict(pb.ListContainersResponse(containers=[c]))
    assert list(data["containers"][0]["labels"]) == ["a", "z"]
    assert data["containers"][0]["createdAt"] == "0"  # int64 as a string, as protojson writes it


def test_id_prefixes_resolve_only_when_unique() -> None:
    ids = ["abc123", "abd456", "fff"]
    assert command.resolve("abc", ids, "container", "ps -a") == "abc123"
    with pytest.raises(command.CrictlError, match="ambiguous: it starts 2 IDs"):
        command.resolve("ab", ids, "container", "ps -a")
    with pytest.raises(command.CrictlError, match=r'no pod sandbox with ID "zz" \(`pykubelet crictl pods`'):
        command.resolve("zz", ids, "pod sandbox", "pods")


def test_endpoint_order_is_flag_env_config_then_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "crictl.yaml"
    monkeypatch.setattr(command, "CONFIG_FILE", config)
    monkeypatch.delenv("CONTAINER_RUNTIME_ENDPOINT", raising=False)
    monkeypatch.setattr(command, "DEFAULT_ENDPOINTS", ("unix:///nonexistent/a.sock", f"unix://{config}"))
    assert command.endpoint(None) == "unix:///nonexistent/a.sock"  # nothing exists: the first default
    config.write_text("runtime-endpoint: unix:///from/config.sock\n")
    assert command.endpoint(None) == "unix:///from/config.sock"
    monkeypatch.setenv("CONTAINER_RUNTIME_ENDPOINT", "unix:///from/env.sock")
    assert command.endpoint(None) == "unix:///from/env.sock"
    assert command.endpoint("unix:///flag.sock") == "unix:///flag.sock"
    config.write_text("timeout: 2\n")
    monkeypatch.delenv("CONTAINER_RUNTIME_ENDPOINT")
    assert command.endpoint(None) == f"unix://{config}"  # the first default whose socket exists


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    assert commands.is_subcommand(argv)
    code = commands.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_docker_endpoint_points_at_docker_ps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["crictl", "-r", "unix:///var/run/docker.sock", "ps"], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "crictl is for CRI runtimes" in err and "`docker ps" in err


def test_a_missing_socket_is_one_line_naming_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sock = tmp_path / "containerd.sock"
    code, _, err = run_cli(["crictl", "--runtime-endpoint", f"unix://{sock}", "pods"], capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(
        f"error: cannot reach the container runtime at unix://{sock}: no socket at that path"
    )
    assert "Traceback" not in err


def test_a_socket_not_ours_asks_for_sudo(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sock = tmp_path / "containerd.sock"
    sock.touch()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    code, _, err = run_cli(["crictl", "-r", str(sock), "ps", "-a"], capsys)
    assert code == 1 and f"permission denied on {sock}" in err and "sudo pykubelet crictl" in err


def test_a_bad_label_is_refused_before_any_call() -> None:
    with pytest.raises(command.CrictlError, match="incorrectly specified label: app"):
        command._labels(["app"])
    assert command._labels(["app=web", "tier=db"]) == {"app": "web", "tier": "db"}
