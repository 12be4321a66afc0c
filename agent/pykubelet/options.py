"""Flags and the KubeletConfiguration file -> one :class:`Options` (flags win over the file).

The flag names are the kubelet's, and so are the config file's field names (``staticPodPath``,
``fileCheckFrequency``, ...), so a person can carry what they learn here to a real node.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field, fields
from typing import Any

import yaml

DEFAULT_INFRA_IMAGE = "registry.k8s.io/pause:3.10"


class OptionsError(Exception):
    """A bad flag or config file value; the message says which and why."""


@dataclass
class Options:
    pod_manifest_path: str = ""
    manifest_url: str = ""
    manifest_url_header: list[str] = field(default_factory=list)
    http_check_frequency: float = 20.0
    node_labels: str = ""
    file_check_frequency: float = 20.0
    sync_frequency: float = 60.0
    hostname_override: str = ""
    node_ip: str = ""
    root_dir: str = "/var/lib/pykubelet"
    pod_logs_dir: str = "/var/log/pods"
    pod_infra_container_image: str = DEFAULT_INFRA_IMAGE
    container_runtime_endpoint: str = ""
    read_only_port: int = 10255
    address: str = "0.0.0.0"
    enable_ui: bool = True
    strict_manifests: bool = False
    verbosity: int = 0

    @property
    def node_name(self) -> str:
        return (self.hostname_override or socket.gethostname()).strip().lower()

    @property
    def runtime_endpoint(self) -> str:
        return (
            self.container_runtime_endpoint or os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        )


# KubeletConfiguration field -> (Options attribute, converter)
_CONFIG_FIELDS: dict[str, tuple[str, Any]] = {
    "staticPodPath": ("pod_manifest_path", str),
    "staticPodURL": ("manifest_url", str),
    "staticPodURLHeader": ("manifest_url_header", "headers"),
    "httpCheckFrequency": ("http_check_frequency", "duration"),
    "fileCheckFrequency": ("file_check_frequency", "duration"),
    "syncFrequency": ("sync_frequency", "duration"),
    "readOnlyPort": ("read_only_port", int),
    "address": ("address", str),
    "podInfraContainerImage": ("pod_infra_container_image", str),
    "containerRuntimeEndpoint": ("container_runtime_endpoint", str),
    "hostnameOverride": ("hostname_override", str),
    "nodeIP": ("node_ip", str),
    "rootDirectory": ("root_dir", str),
    "podLogsDir": ("pod_logs_dir", str),
}
_IGNORED_CONFIG_FIELDS = {"kind", "apiVersion"}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str | int | float) -> float:
    """Go's ``time.ParseDuration`` (``20s``, ``1m30s``, ``500ms``) -> seconds; a bare number is seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    value = str(text).strip()
    try:
        return float(value)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value) or not value:
        raise ValueError(
            f"invalid duration {value!r}: use a number of seconds or Go syntax like 20s, 1m30s, 500ms"
        )
    return total


def load_config_file(path: str) -> dict[str, Any]:
    """Read a KubeletConfiguration YAML into Options attribute values; unknown fields are errors."""
    try:
        with open(path, "rb") as fh:
            document = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise OptionsError(f"--config {path}: cannot read the file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise OptionsError(f"--config {path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise OptionsError(
            f"--config {path}: expected a KubeletConfiguration mapping, got {type(document).__name__}"
        )
    kind = document.get("kind", "KubeletConfiguration")
    if kind != "KubeletConfiguration":
        raise OptionsError(f'--config {path}: kind: Invalid value: "{kind}": expected KubeletConfiguration')
    values: dict[str, Any] = {}
    for key, raw in document.items():
        if key in _IGNORED_CONFIG_FIELDS:
            continue
        if key not in _CONFIG_FIELDS:
            known = ", ".join(sorted(_CONFIG_FIELDS))
            raise OptionsError(f'--config {path}: unknown field "{key}" (pykubelet reads: {known})')
        attribute, convert = _CONFIG_FIELDS[key]
        try:
            if convert == "duration":
                values[attribute] = parse_duration(raw)
            elif convert == "headers":
                values[attribute] = _config_headers(raw)
            else:
                values[attribute] = convert(raw)
        except (TypeError, ValueError) as exc:
            raise OptionsError(f"--config {path}: {key}: Invalid value: {raw!r}: {exc}") from exc
    return values


def _config_headers(raw: Any) -> list[str]:
    """``staticPodURLHeader`` is ``map[string][]string``; keep it as the flag's ``Name:value`` form."""
    if not isinstance(raw, dict):
        raise ValueError("must be a mapping of header name to a list of values")
    return [
        f"{name}:{value}"
        for name, values in raw.items()
        for value in (values if isinstance(values, list) else [values])
    ]


def parse_headers(items: list[str]) -> dict[str, str]:
    """``--manifest-url-header 'Name:value'`` (repeated) -> a header dict; a bad one is an OptionsError."""
    headers: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise OptionsError(f"--manifest-url-header {item!r}: expected 'Name:value'")
        headers[name.strip()] = value.strip()
    return headers


def node_labels(text: str) -> dict[str, str]:
    """``--node-labels key=value,key2=value2``."""
    labels: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise OptionsError(f"--node-labels {text!r}: expected key=value[,key=value...], got {pair!r}")
        labels[key] = value
    return labels


def build(flags: dict[str, Any], config_path: str | None) -> Options:
    """Defaults, then the config file, then flags that were given on the command line."""
    values: dict[str, Any] = load_config_file(config_path) if config_path else {}
    values.update({k: v for k, v in flags.items() if v is not None})
    known = {f.name for f in fields(Options)}
    options = Options(**{k: v for k, v in values.items() if k in known})
    validate(options)
    return options


def validate(options: Options) -> None:
    if not options.pod_manifest_path and not options.manifest_url:
        raise OptionsError(
            "no pod source: give --pod-manifest-path DIR and/or --manifest-url URL "
            "(or staticPodPath / staticPodURL in --config)"
        )
    if options.manifest_url and not re.match(r"https?://", options.manifest_url):
        raise OptionsError(f"--manifest-url {options.manifest_url!r}: must be an http:// or https:// URL")
    parse_headers(options.manifest_url_header)
    node_labels(options.node_labels)
    if not 0 <= options.read_only_port <= 65535:
        raise OptionsError(f"--read-only-port {options.read_only_port}: must be 0 (off) or a port 1-65535")
    for flag, value in (
        ("--file-check-frequency (fileCheckFrequency)", options.file_check_frequency),
        ("--http-check-frequency (httpCheckFrequency)", options.http_check_frequency),
        ("--sync-frequency (syncFrequency)", options.sync_frequency),
    ):
        if not value > 0:  # also refuses NaN: 0 or less would make its loop spin without sleeping
            raise OptionsError(f"{flag} {value:g}s: must be more than 0s, e.g. 20s")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", options.node_name) or len(options.node_name) > 63:
        raise OptionsError(
            f"node name {options.node_name!r} is not a valid DNS-1123 name: "
            "pass --hostname-override with lower-case letters, digits, '-' and '.'"
        )
