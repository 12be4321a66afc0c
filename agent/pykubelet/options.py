"""Flags and the KubeletConfiguration file -> one :class:`Options` (flags win over the file).

The flag names are the kubelet's, and so are the config file's field names (``staticPodPath``,
``fileCheckFrequency``, ...), so a person can carry what they learn here to a real node.

Every option is declared once, in :data:`OPTIONS`: its flag, its KubeletConfiguration key, its kind (how a
value is read and shown), its default and its help. The argument parser (``cli.py``), the ``--config``
loader below and the CLI reference in docs/cli.md (``scripts/doctables.py``) are all made from that table,
so none of them can drift from the others; a default written anywhere else would be a second truth.
The file's envelope (YAML, ``apiVersion``/``kind``) and the KubeletConfiguration fields pykubelet ignores
are in kubeletconfig.py; how ``--manifest-url-header`` / ``staticPodURLHeader`` are read is in urlheaders.py.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from pykubelet.kubeletconfig import API_VERSION, UNUSED_CONFIG_FIELDS, ConfigFileError, read_document
from pykubelet.urlheaders import Header, config_headers, flatten_headers, split_header_flag

DOCKER_SOCKET = "unix:///var/run/docker.sock"


class OptionsError(Exception):
    """A bad flag or config file value; the message says which and why."""


# --- kinds: how a value is read from a flag or the file, and how it is written back --------------------

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


def format_duration(seconds: float) -> str:
    """``20s``, ``1m``, ``1m30s``, ``500ms``: a duration as a KubeletConfiguration writes it."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def parse_bool(raw: Any) -> bool:
    """Go's ``strconv.ParseBool``, as the kubelet's boolean flags take it (``--enable-ui=false``)."""
    if isinstance(raw, bool):
        return raw
    value = str(raw).strip().lower()
    if value in ("1", "t", "true", "yes", "y", "on"):
        return True
    if value in ("0", "f", "false", "no", "n", "off"):
        return False
    raise ValueError(f"invalid boolean {raw!r}: use true or false")


def parse_integer(raw: Any) -> int:
    """A whole number from a flag's text or a YAML value (YAML already gives ``10255`` as an int)."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"invalid integer {raw!r}: use a whole number") from None


@dataclass(frozen=True)
class Kind:
    """How one kind of option is read (from a flag's text, from a YAML value) and written (help, docs)."""

    name: str  # the docs' "type" column
    py_type: Any  # the Options attribute's type: a unit test holds the dataclass to it
    from_flag: Callable[[str], Any]  # raises ValueError with a message a person can act on
    from_config: Callable[[Any], Any]  # likewise, for a value the YAML file gave
    show: Callable[[Any], str] = str  # a value as the user would write it
    bare: bool = False  # the flag alone (no value) means true, as the kubelet's boolean flags do
    repeated: bool = False  # each use of the flag adds one value to a list


STRING = Kind("string", str, str, str)
INTEGER = Kind("integer", int, parse_integer, parse_integer)
DURATION = Kind("duration", float, parse_duration, parse_duration, show=format_duration)
BOOLEAN = Kind("boolean", bool, parse_bool, parse_bool, show=lambda v: str(v).lower(), bare=True)


def parse_cgroup_driver(raw: Any) -> str:
    """``cgroupfs`` or ``systemd``, as the kubelet's ``--cgroup-driver`` takes it."""
    if raw not in CGROUP_DRIVERS:
        raise ValueError(f"invalid cgroup driver {raw!r}: use cgroupfs or systemd, as the runtime does")
    return str(raw)


CGROUP_DRIVERS = ("cgroupfs", "systemd")
CGROUP_DRIVER = Kind("cgroupfs or systemd", str, parse_cgroup_driver, parse_cgroup_driver)
# Each flag use gives a list of pairs; ``flatten_headers`` joins the uses (the kubelet's repeated Set).
HEADERS = Kind(
    "map of name to list of values", list[Header], split_header_flag, config_headers, repeated=True
)


# --- the declaration ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One pykubelet flag: everything the parser, the config loader and the docs need to know about it."""

    flag: str  # the long name, e.g. --pod-manifest-path
    field: str  # the Options attribute it sets
    kind: Kind
    default: Any
    metavar: str
    help: str  # what it does; the default and the config key are added by help_text()
    config_key: str = ""  # its KubeletConfiguration field, if the file may set it
    aliases: tuple[str, ...] = ()  # shorter spellings, listed before the flag (-v)
    default_text: str = ""  # a default that is decided at run time, in words

    def initial(self) -> Any:
        """The default as a fresh value (a list is never shared between two Options)."""
        return list(self.default) if self.kind.repeated else self.default

    def shown_default(self) -> str:
        """The default as a user would write it; empty when the option is simply off or unset."""
        if self.default_text:
            return self.default_text
        if self.default in ("", (), None):
            return ""
        return self.kind.show(self.default)

    def help_text(self) -> str:
        """The help with its default and config key: ``... (default 20s; config: fileCheckFrequency)``."""
        notes = []
        if self.default_text:
            notes.append(f"default: {self.default_text}")
        elif shown := self.shown_default():
            notes.append(f"default {shown}")
        if self.config_key:
            notes.append(f"config: {self.config_key}")
        return f"{self.help} ({'; '.join(notes)})" if notes else self.help


OPTIONS: tuple[Option, ...] = (
    Option(
        "--pod-manifest-path", "pod_manifest_path", STRING, "", "PATH",
        "directory of static pod manifests (or one manifest file); every file not starting with '.' "
        "is read, whatever its extension",
        config_key="staticPodPath",
    ),
    Option(
        "--manifest-url", "manifest_url", STRING, "", "URL",
        "also poll this URL for pods: one Pod or a PodList, YAML or JSON; when it fails, the last good "
        "set keeps running",
        config_key="staticPodURL",
    ),
    Option(
        "--manifest-url-header", "manifest_url_header", HEADERS, (), "NAME:VALUE",
        "HTTP headers for --manifest-url requests, comma-separated 'key:value' pairs; a repeated key "
        "sends each value in order; the flag may be repeated",
        config_key="staticPodURLHeader",
    ),
    Option(
        "--http-check-frequency", "http_check_frequency", DURATION, 20.0, "DURATION",
        "how often to poll --manifest-url",
        config_key="httpCheckFrequency",
    ),
    Option(
        "--node-labels", "node_labels", STRING, "", "K=V,...",
        "labels of this node, for pods' nodeSelector (kubernetes.io/hostname, kubernetes.io/os and "
        "kubernetes.io/arch are always set)",
    ),
    Option(
        "--file-check-frequency", "file_check_frequency", DURATION, 20.0, "DURATION",
        "how often to relist the manifest path in full, besides reacting to inotify events",
        config_key="fileCheckFrequency",
    ),
    Option(
        "--sync-frequency", "sync_frequency", DURATION, 60.0, "DURATION",
        "how often each pod is re-checked when no event arrives",
        config_key="syncFrequency",
    ),
    Option(
        "--hostname-override", "hostname_override", STRING, "", "NAME",
        "node name, used in pod names (<name>-<node>) and spec.nodeName",
        config_key="hostnameOverride", default_text="the host name, lower-cased",
    ),
    Option(
        "--node-ip", "node_ip", STRING, "", "IP",
        "the node's IP: status.hostIP, and the pod IP of hostNetwork pods (probes go there)",
        config_key="nodeIP", default_text="the address of the interface with the default route",
    ),
    Option(
        "--root-dir", "root_dir", STRING, "/var/lib/pykubelet", "DIR",
        "where pod directories and emptyDir volumes live",
        config_key="rootDirectory",
    ),
    Option(
        "--pod-logs-dir", "pod_logs_dir", STRING, "/var/log/pods", "DIR",
        "where /var/log/pods-style container log links are made",
        config_key="podLogsDir",
    ),
    Option(
        "--pod-infra-container-image", "pod_infra_container_image", STRING, "registry.k8s.io/pause:3.10",
        "IMAGE", "image of the infra (pause) container that holds each pod's namespaces",
        config_key="podInfraContainerImage",
    ),
    Option(
        "--container-runtime-endpoint", "container_runtime_endpoint", STRING, "", "URL",
        "the Docker engine to use",
        config_key="containerRuntimeEndpoint", default_text=f"$DOCKER_HOST, else {DOCKER_SOCKET}",
    ),
    Option(
        "--cgroup-driver", "cgroup_driver", CGROUP_DRIVER, "cgroupfs", "DRIVER",
        "how a CRI runtime manages cgroups; must match it (containerd's SystemdCgroup): with systemd each "
        "pod sandbox gets the kubelet's pod slice (kubepods-<qos>-pod<uid>.slice) as its cgroup parent, "
        "stopped when the pod goes; the Docker runtime leaves cgroups to Docker",
        config_key="cgroupDriver",
    ),
    Option(
        "--read-only-port", "read_only_port", INTEGER, 10255, "PORT",
        "port of the unauthenticated read-only API: /healthz, /pods, ...; 0 disables",
        config_key="readOnlyPort",
    ),
    Option(
        "--address", "address", STRING, "0.0.0.0", "IP",
        "address the read-only port listens on",
        config_key="address",
    ),
    Option(
        "--enable-ui", "enable_ui", BOOLEAN, True, "BOOL",
        "serve the live lab dashboard under /ui/ on the read-only port; --enable-ui=false turns it off",
    ),
    Option(
        "--strict-manifests", "strict_manifests", BOOLEAN, False, "BOOL",
        "refuse a manifest with an unknown field (a typo such as imagePullPolice), like kubectl's "
        "strict field validation; without it the pod runs and the field is logged as a warning",
    ),
    Option(
        "--v", "verbosity", INTEGER, 0, "N",
        "log verbosity: 0-3 one line per event, 4 and up debug detail",
        aliases=("-v",),
    ),
)  # fmt: skip
BY_FIELD: dict[str, Option] = {o.field: o for o in OPTIONS}
BY_CONFIG_KEY: dict[str, Option] = {o.config_key: o for o in OPTIONS if o.config_key}
log = logging.getLogger("pykubelet.options")


class _Declared:
    """The dataclass default of every Options field: "take the default from OPTIONS"."""

    def __repr__(self) -> str:
        return "<default from OPTIONS>"


_DECLARED: Any = _Declared()


@dataclass
class Options:
    """The agent's settings. The fields are typed here for the type checker; their defaults are OPTIONS'."""

    pod_manifest_path: str = _DECLARED
    manifest_url: str = _DECLARED
    manifest_url_header: list[Header] = _DECLARED
    http_check_frequency: float = _DECLARED
    node_labels: str = _DECLARED
    file_check_frequency: float = _DECLARED
    sync_frequency: float = _DECLARED
    hostname_override: str = _DECLARED
    node_ip: str = _DECLARED
    root_dir: str = _DECLARED
    pod_logs_dir: str = _DECLARED
    pod_infra_container_image: str = _DECLARED
    container_runtime_endpoint: str = _DECLARED
    cgroup_driver: str = _DECLARED
    read_only_port: int = _DECLARED
    address: str = _DECLARED
    enable_ui: bool = _DECLARED
    strict_manifests: bool = _DECLARED
    verbosity: int = _DECLARED

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) is _DECLARED:
                setattr(self, f.name, BY_FIELD[f.name].initial())

    @property
    def node_name(self) -> str:
        return (self.hostname_override or socket.gethostname()).strip().lower()

    @property
    def runtime_endpoint(self) -> str:
        return self.container_runtime_endpoint or os.environ.get("DOCKER_HOST") or DOCKER_SOCKET


# --- the config file, flags over it, and the checks -----------------------------------------------------


def load_config_file(path: str) -> dict[str, Any]:
    """Read a KubeletConfiguration YAML into Options attribute values.

    The fields pykubelet reads become values; the KubeletConfiguration's other fields are logged once
    and ignored (a kubeadm node's file starts pykubelet); any other name is an error naming it.
    """
    try:
        document = read_document(path)
    except ConfigFileError as exc:
        raise OptionsError(str(exc)) from exc
    values: dict[str, Any] = {}
    unused = []
    for key, raw in document.items():
        option = BY_CONFIG_KEY.get(key)
        if option is None:
            if key in UNUSED_CONFIG_FIELDS:
                unused.append(key)
                continue
            known = ", ".join(sorted(BY_CONFIG_KEY))
            raise OptionsError(
                f'--config {path}: unknown field "{key}": not a KubeletConfiguration ({API_VERSION}) '
                f"field; check its spelling (pykubelet reads: {known})"
            )
        try:
            value = option.kind.from_config(raw)
        except (TypeError, ValueError) as exc:
            raise OptionsError(f"--config {path}: {key}: Invalid value: {raw!r}: {exc}") from exc
        if option.kind is DURATION and value == 0:
            continue  # SetDefaults_KubeletConfiguration: a zero duration (kubeadm writes 0s) is the default
        values[option.field] = value
    if unused:
        log.warning(
            "KubeletConfiguration fields that pykubelet does not use are ignored: %s",
            ", ".join(sorted(unused)),
            extra={"file": path},
        )
    return values


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
    if "manifest_url_header" in values:
        values["manifest_url_header"] = flatten_headers(values["manifest_url_header"])
    options = Options(**{k: v for k, v in values.items() if k in BY_FIELD})
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
    node_labels(options.node_labels)
    if not 0 <= options.read_only_port <= 65535:
        raise OptionsError(f"--read-only-port {options.read_only_port}: must be 0 (off) or a port 1-65535")
    for option in OPTIONS:
        value = getattr(options, option.field)
        if option.kind is DURATION and not value > 0:  # also NaN: 0 or less would spin its loop
            where = f"{option.flag} ({option.config_key})" if option.config_key else option.flag
            raise OptionsError(f"{where} {value:g}s: must be more than 0s, e.g. 20s")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", options.node_name) or len(options.node_name) > 63:
        raise OptionsError(
            f"node name {options.node_name!r} is not a valid DNS-1123 name: "
            "pass --hostname-override with lower-case letters, digits, '-' and '.'"
        )
