"""Flags and the KubeletConfiguration file: the kubelet's names, flags winning over the file."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest

from pykubelet.cli import main, parser
from pykubelet.options import (
    API_VERSION,
    BY_CONFIG_KEY,
    BY_FIELD,
    OPTIONS,
    Option,
    Options,
    OptionsError,
    build,
    format_duration,
    load_config_file,
    parse_duration,
)
from pykubelet.urlheaders import flatten_headers

TYPE = f"apiVersion: {API_VERSION}\nkind: KubeletConfiguration\n"


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
        (f"{TYPE}staticPodPth: /x\n", 'unknown field "staticPodPth"'),
        (f"apiVersion: {API_VERSION}\nkind: Pod\n", 'kind: Invalid value: "Pod"'),
        ("apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n", "apiVersion: Invalid value"),
        ("kind: KubeletConfiguration\n", "apiVersion: Required value"),
        (f"apiVersion: {API_VERSION}\n", "kind: Required value"),
        (f"{TYPE}fileCheckFrequency: soon\n", "fileCheckFrequency: Invalid value: 'soon'"),
        (f"{TYPE}staticPodURLHeader: {{X-A: one}}\n", "X-A: must be a list of values"),
        (f"{TYPE}staticPodURLHeader: {{'bad name': [x]}}\n", "not a valid HTTP header name"),
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


# --- the one declaration: parser, config loader, Options and docs agree with OPTIONS -----------------------

# A value for each kind, as a flag's text and as the YAML the config file would hold, and what it reads as.
SAMPLES: dict[str, tuple[str, str, Any]] = {
    "string": ("/srv/x", "/srv/x", "/srv/x"),
    "integer": ("10266", "10266", 10266),
    "duration": ("1m30s", "1m30s", 90.0),
    "boolean": ("false", "false", False),
    "map of name to list of values": ("X-A:1", "{X-A: ['1']}", [("X-A", "1")]),
    "cgroupfs or systemd": ("systemd", "systemd", "systemd"),
}


def test_every_options_field_is_declared_once_with_its_type() -> None:
    hints = typing.get_type_hints(Options)
    assert [f.name for f in dataclasses.fields(Options)] == [o.field for o in OPTIONS]
    assert len({o.flag for o in OPTIONS}) == len(OPTIONS)
    for option in OPTIONS:
        assert hints[option.field] == option.kind.py_type, option.flag


def test_options_defaults_come_from_the_declaration() -> None:
    first, second = Options(), Options()
    for option in OPTIONS:
        assert getattr(first, option.field) == option.initial(), option.flag
    first.manifest_url_header.append(("X", "1"))
    assert second.manifest_url_header == []  # a list default is never shared


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.flag)
def test_each_flag_and_its_config_key_read_the_same_value(option: Option, tmp_path: Path) -> None:
    flag_text, yaml_text, expected = SAMPLES[option.kind.name]
    args = vars(parser().parse_args([f"{option.flag}={flag_text}"]))
    if option.kind.repeated:  # argparse appends one list of pairs per use of the flag
        args[option.field] = flatten_headers(args[option.field])
    assert args[option.field] == expected
    if option.config_key:
        config = tmp_path / "kubelet.yaml"
        config.write_text(f"{TYPE}{option.config_key}: {yaml_text}\n")
        assert load_config_file(str(config)) == {option.field: expected}


def test_the_config_file_reads_exactly_the_declared_keys(tmp_path: Path) -> None:
    config = tmp_path / "kubelet.yaml"
    config.write_text(f"{TYPE}nodeLabels: a=b\n")  # a flag without a config key
    with pytest.raises(OptionsError) as caught:
        load_config_file(str(config))
    assert f"(pykubelet reads: {', '.join(sorted(BY_CONFIG_KEY))})" in str(caught.value)
    assert set(BY_CONFIG_KEY) == {o.config_key for o in OPTIONS if o.config_key}


def test_help_shows_each_declared_default_and_config_key() -> None:
    actions = {a.dest: a for a in parser()._actions}
    for option in OPTIONS:
        action = actions[option.field]
        assert option.flag in action.option_strings
        assert action.default is None  # an absent flag leaves the config file's value alone
        assert action.help == option.help_text()
        if option.config_key:
            assert f"config: {option.config_key}" in action.help
        if option.shown_default():
            assert option.shown_default() in action.help
    assert "(default 1m; config: syncFrequency)" in BY_FIELD["sync_frequency"].help_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--read-only-port", "x"], "argument --read-only-port: invalid integer 'x': use a whole number"),
        (["--sync-frequency", "soon"], "argument --sync-frequency: invalid duration 'soon'"),
        (["--enable-ui=maybe"], "argument --enable-ui: invalid boolean 'maybe': use true or false"),
    ],
)
def test_a_bad_flag_value_exits_2_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(argv)
    assert caught.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("seconds", [0.5, 20, 60, 90, 3600, 3725])
def test_durations_are_shown_as_the_config_file_writes_them(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds
