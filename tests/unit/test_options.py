"""Flags and the KubeletConfiguration file: the kubelet's names, flags winning over the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pykubelet.cli import main, parser
from pykubelet.options import OptionsError, build, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("20s", 20), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200), (5, 5), ("7", 7), ("1.5s", 1.5)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "20x", "1m30", "-5s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_defaults_are_the_kubelets() -> None:
    options = build({"pod_manifest_path": "/m", "hostname_override": "Node-1"}, None)
    assert options.file_check_frequency == 20
    assert options.read_only_port == 10255
    assert options.address == "0.0.0.0"
    assert options.pod_infra_container_image == "registry.k8s.io/pause:3.10"
    assert options.root_dir == "/var/lib/pykubelet"
    assert options.node_name == "node-1"


def test_config_file_and_flags_win(tmp_path: Path) -> None:
    config = tmp_path / "kubelet.yaml"
    config.write_text(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "staticPodPath: /etc/kubernetes/manifests\nfileCheckFrequency: 5s\nreadOnlyPort: 10266\n"
        "address: 127.0.0.1\npodInfraContainerImage: example/pause:1\n"
    )
    options = build({"read_only_port": 10999, "hostname_override": "n"}, str(config))
    assert options.pod_manifest_path == "/etc/kubernetes/manifests"
    assert options.file_check_frequency == 5
    assert options.address == "127.0.0.1"
    assert options.pod_infra_container_image == "example/pause:1"
    assert options.read_only_port == 10999  # the flag wins


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: KubeletConfiguration\nstaticPodPth: /x\n", 'unknown field "staticPodPth"'),
        ("kind: Pod\n", 'kind: Invalid value: "Pod"'),
        ("fileCheckFrequency: soon\n", "fileCheckFrequency: Invalid value: 'soon'"),
        ("- a list\n", "expected a KubeletConfiguration mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_config_file_errors_name_the_file_and_field(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "kubelet.yaml"
    config.write_text(content)
    with pytest.raises(OptionsError) as caught:
        build({"pod_manifest_path": "/m"}, str(config))
    assert str(config) in str(caught.value)
    assert message in str(caught.value)


def test_missing_manifest_path_and_bad_values_are_explained() -> None:
    with pytest.raises(OptionsError, match="--pod-manifest-path"):
        build({}, None)
    with pytest.raises(OptionsError, match="--read-only-port 70000"):
        build({"pod_manifest_path": "/m", "read_only_port": 70000}, None)
    with pytest.raises(OptionsError, match="not a valid DNS-1123 name"):
        build({"pod_manifest_path": "/m", "hostname_override": "bad_name"}, None)


def test_cli_reports_option_errors_with_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--config", str(tmp_path / "absent.yaml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_help_explains_every_flag() -> None:
    text = parser().format_help()
    for flag in (
        "--pod-manifest-path",
        "--file-check-frequency",
        "--hostname-override",
        "--root-dir",
        "--pod-infra-container-image",
        "--container-runtime-endpoint",
        "--read-only-port",
        "--address",
        "--config",
        "-v",
    ):
        assert flag in text
    for action in parser()._actions:
        assert action.help, f"{action.option_strings} has no help text"
