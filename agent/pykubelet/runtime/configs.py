"""A pod's spec -> the configs the runtime is given: ``generatePodSandboxConfig`` and
``generateContainerConfig`` (``kuberuntime_sandbox.go``, ``kuberuntime_container.go``). Pure.

Everything the kubelet resolves before calling the runtime is resolved here: environment variables in
order with ``$(VAR)`` expansion and the downward API, command and args expanded against them, CPU shares
and CFS quota from requests and limits, the OOM score from the QoS class, the security context merged
from pod and container, hostPorts as port mappings. Mount sources are made by the executor (volumes and
subPaths need the disk) and handed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pykubelet.expansion import expand
from pykubelet.manifest import StaticPod
from pykubelet.manifest.quantity import cpu_millis, memory_bytes
from pykubelet.node import Node
from pykubelet.qos import GUARANTEED, oom_score_adj, pod_qos
from pykubelet.runtime import labels as L
from pykubelet.runtime.api import Container, ContainerConfig, Mount, PortMapping, SandboxConfig

CPU_PERIOD = 100_000  # quotaPeriod, microseconds
MIN_QUOTA = 1000
MIN_SHARES = 2
SANDBOX_OOM_SCORE = -998  # qos.PodInfraOOMAdj


MAX_NAMESERVERS = 3  # validation.MaxDNSNameservers
MAX_SEARCHES = 6  # validation.MaxDNSSearchPaths
HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
HOSTS_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"
MISSING_CLUSTER_DNS = (
    'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. '
    'Falling back to "Default" policy.'
)


@dataclass(frozen=True)
class Settings:
    root_dir: str
    pod_logs_dir: str
    infra_image: str
    resolv_conf: str = "/etc/resolv.conf"  # the kubelet's --resolv-conf default
    hosts_file: str = "/etc/hosts"  # the node's hosts file, which hostNetwork pods see
    cgroup_driver: str = "cgroupfs"  # the runtime's: with systemd, sandboxes get the kubelet's pod slice


@dataclass(frozen=True)
class PodDNS:
    """``GetPodDNS``'s answer: the pod's resolver settings, and whether ClusterFirst fell back to Default."""

    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    missing_cluster_dns: bool = False

    def resolv_conf(self) -> str:
        """The file as dockershim's ``rewriteResolvFile`` wrote it (empty when there is nothing to say)."""
        lines = [f"nameserver {server}" for server in self.servers]
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "\n".join(lines) + "\n" if lines else ""


def parse_resolv_conf(text: str) -> PodDNS:
    """The host's resolver settings (``parseResolvConf``): nameservers, the last search line, options."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] == "search":
            searches = fields[1:]
        elif fields[0] == "options":
            options.extend(fields[1:])
    return PodDNS(tuple(servers), tuple(searches), tuple(options))


def pod_dns(spec: dict[str, Any], host_resolv_conf: str) -> PodDNS:
    """``GetPodDNS`` on a kubelet without ``--cluster-dns`` (pykubelet has none): Default uses the host's
    resolv.conf; ClusterFirst falls back to it (with MissingClusterDNS), silently for hostNetwork pods;
    None starts empty; ``dnsConfig`` is then appended (``appendDNSConfig``) and the lists are cut to
    the resolver's limits (``formDNSConfigFitsLimits``)."""
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    missing = policy == "ClusterFirstWithHostNet" or (
        policy == "ClusterFirst" and not spec.get("hostNetwork")
    )
    base = PodDNS() if policy == "None" else parse_resolv_conf(host_resolv_conf)
    extra = spec.get("dnsConfig") or {}
    options: dict[str, str] = {}
    for option in base.options:
        name, _, value = option.partition(":")
        options[name] = value
    for option in extra.get("options") or []:
        options[option["name"]] = str(option.get("value") or "")
    return PodDNS(
        servers=_unique([*base.servers, *(extra.get("nameservers") or [])])[:MAX_NAMESERVERS],
        searches=_unique([*base.searches, *(extra.get("searches") or [])])[:MAX_SEARCHES],
        options=tuple(f"{name}:{value}" if value else name for name, value in options.items()),
        missing_cluster_dns=missing,
    )


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def pod_hostname(pod: StaticPod) -> str:
    """``GeneratePodHostNameAndDomain`` without a cluster domain: spec.hostname or the pod's name, cut to
    63 characters without a trailing ``-`` or ``.`` (``truncatePodHostnameIfNeeded``)."""
    name = str(pod.spec.get("hostname") or pod.name)
    return name if len(name) <= 63 else name[:63].rstrip("-.")


def hosts_file(pod: StaticPod, ip: str, node_hosts: str) -> str:
    """The pod's /etc/hosts (``managedHostsFileContent`` / ``nodeHostsFileContent``)."""
    if pod.spec.get("hostNetwork"):
        text = HOSTS_HEADER_HOST_NETWORK + node_hosts
    else:
        text = (
            HOSTS_HEADER
            + "127.0.0.1\tlocalhost\n"
            + "::1\tlocalhost ip6-localhost ip6-loopback\n"
            + "fe00::0\tip6-localnet\n"
            + "fe00::0\tip6-mcastprefix\n"
            + "fe00::1\tip6-allnodes\n"
            + "fe00::2\tip6-allrouters\n"
            + f"{ip}\t{pod_hostname(pod)}\n"
        )
    aliases = pod.spec.get("hostAliases") or []
    if aliases:
        text += "\n# Entries added by HostAliases.\n"
        text += "".join(f"{a['ip']}\t" + "\t".join(a.get("hostnames") or []) + "\n" for a in aliases)
    return text


def oom_floor(node: Node, score: int) -> int:
    """Lowering oom_score_adj needs CAP_SYS_RESOURCE; where the host lacks it, 0 is the floor."""
    return score if node.can_lower_oom_score else max(score, 0)


def pod_ip(spec: dict[str, Any], host_ip: str, sandbox: Container | None) -> str:
    """The pod's IP: the node's for a hostNetwork pod, else its running sandbox's (one rule, used everywhere:
    env vars, hooks and probes, the status)."""
    if spec.get("hostNetwork"):
        return host_ip
    return sandbox.ip if sandbox is not None and sandbox.running else ""


def sandbox_config(
    pod: StaticPod,
    *,
    node: Node,
    settings: Settings,
    attempt: int,
    log_directory: str,
    dns: PodDNS | None = None,
) -> SandboxConfig:
    """``generatePodSandboxConfig``; ``dns`` is :func:`pod_dns`'s answer (the host's file read by the
    caller). Host aliases are not the runtime's business: the kubelet writes them to the hosts file."""
    spec = pod.spec
    host_network = bool(spec.get("hostNetwork"))
    dns = dns or PodDNS()
    return SandboxConfig(
        name=pod.name,
        namespace=pod.namespace,
        uid=pod.uid,
        attempt=attempt,
        image=settings.infra_image,
        labels=L.sandbox_labels(pod, node.name),
        annotations=L.sandbox_annotations(pod),
        hostname="" if host_network else pod_hostname(pod),
        log_directory=log_directory,
        host_network=host_network,
        host_ipc=bool(spec.get("hostIPC")),
        host_pid=bool(spec.get("hostPID")),
        port_mappings=() if host_network else port_mappings(spec),
        dns_servers=dns.servers,
        dns_searches=dns.searches,
        dns_options=dns.options,
        oom_score_adj=oom_floor(node, SANDBOX_OOM_SCORE),
        cpu_shares=MIN_SHARES,
        cgroup_parent=pod_cgroup_parent(pod, settings.cgroup_driver),
    )


def pod_cgroup_parent(pod: StaticPod, driver: str) -> str:
    """The pod's cgroup as the kubelet's pod container manager names it, for the systemd driver.

    ``kubepods-<qos>-pod<uid>.slice`` (``kubepods-pod<uid>.slice`` for a Guaranteed pod), the systemd form of
    ``/kubepods/<qos>/pod<uid>`` (``pkg/kubelet/cm/cgroup_manager_linux.go``): runc's systemd driver
    needs a slice to put the scope in, and systemd makes the slices as they are named. With cgroupfs
    "" leaves the cgroup to the runtime (``/k8s.io/<id>`` under containerd, ``/docker/<id>`` under Docker).
    """
    if driver != "systemd":
        return ""
    return pod_slice(pod.uid, pod_qos(pod.spec))


def pod_slice(uid: str, qos: str) -> str:
    """The pod's slice for its QoS class: Guaranteed pods sit directly under ``kubepods.slice``, and
    systemd names take ``_`` for ``-``."""
    level = "" if qos == GUARANTEED else f"-{qos.lower()}"
    return f"kubepods{level}-pod{uid.replace('-', '_')}.slice"


def port_mappings(spec: dict[str, Any]) -> tuple[PortMapping, ...]:
    """hostPorts become port mappings on the sandbox (``MakePortMappings``)."""
    return tuple(
        PortMapping(
            container_port=int(port["containerPort"]),
            host_port=int(port["hostPort"]),
            protocol=port.get("protocol", "TCP"),
            host_ip=port.get("hostIP") or "",
        )
        for container in spec.get("containers") or []
        for port in container.get("ports") or []
        if port.get("hostPort")
    )


def container_config(
    pod: StaticPod,
    spec: dict[str, Any],
    *,
    kind: str,
    restart_count: int,
    node: Node,
    sandbox: Container,
    mounts: tuple[Mount, ...],
    log_path: str,
) -> ContainerConfig:
    """``generateContainerConfig``: one container, resolved."""
    pod_spec = pod.spec
    env = environment(pod, spec, node, pod_ip(pod.spec, node.host_ip, sandbox))
    security = effective_security(pod_spec, spec)
    resources = spec.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    cpu_request = requests.get("cpu", limits.get("cpu"))
    memory_request = memory_bytes(requests["memory"]) if "memory" in requests else 0
    capabilities = security.get("capabilities") or {}
    user = ""
    if security.get("runAsUser") is not None:
        user = str(security["runAsUser"])
        if security.get("runAsGroup") is not None:
            user += f":{security['runAsGroup']}"
    return ContainerConfig(
        name=spec["name"],
        attempt=restart_count,
        kind="init" if kind == "init" else "container",
        image=spec["image"],
        labels=L.container_labels(pod, spec, node.name),
        annotations=L.container_annotations(pod, spec, restart_count=restart_count),
        command=tuple(expand(str(a), env) for a in spec.get("command") or []),
        args=tuple(expand(str(a), env) for a in spec.get("args") or []),
        env=tuple(env.items()),
        working_dir=spec.get("workingDir") or "",
        mounts=mounts,
        log_path=log_path,
        tty=bool(spec.get("tty")),
        stdin=bool(spec.get("stdin")),
        user=user,
        supplemental_groups=supplemental_groups(pod_spec),
        privileged=bool(security.get("privileged")),
        read_only_rootfs=bool(security.get("readOnlyRootFilesystem")),
        no_new_privileges=security.get("allowPrivilegeEscalation") is False,
        cap_add=tuple(capabilities.get("add") or ()),
        cap_drop=tuple(capabilities.get("drop") or ()),
        host_pid=bool(pod_spec.get("hostPID")),
        share_process_namespace=bool(pod_spec.get("shareProcessNamespace")),
        host_uts=bool(pod_spec.get("hostNetwork")),
        cpu_shares=max(MIN_SHARES, cpu_millis(cpu_request) * 1024 // 1000) if cpu_request else MIN_SHARES,
        cpu_period=CPU_PERIOD if "cpu" in limits else None,
        cpu_quota=max(MIN_QUOTA, cpu_millis(limits["cpu"]) * CPU_PERIOD // 1000) if "cpu" in limits else None,
        memory_limit=memory_bytes(limits["memory"]) if "memory" in limits else None,
        oom_score_adj=oom_floor(node, oom_score_adj(pod_qos(pod_spec), memory_request, node.memory_capacity)),
    )


def supplemental_groups(pod_spec: dict[str, Any]) -> tuple[int, ...]:
    """The pod's fsGroup, then its supplementalGroups, added to every container's groups
    (``determineEffectiveSecurityContext``)."""
    context = pod_spec.get("securityContext") or {}
    groups = [context["fsGroup"]] if context.get("fsGroup") is not None else []
    groups.extend(context.get("supplementalGroups") or [])
    return tuple(int(g) for g in groups)


def effective_security(pod_spec: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The container's securityContext over the pod's (``DetermineEffectiveSecurityContext``)."""
    return {**(pod_spec.get("securityContext") or {}), **(spec.get("securityContext") or {})}


def needs_image_user(pod_spec: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether starting the container needs the image's user: runAsNonRoot without a runAsUser."""
    security = effective_security(pod_spec, spec)
    return bool(security.get("runAsNonRoot")) and security.get("runAsUser") is None


def verify_run_as_non_root(pod: StaticPod, spec: dict[str, Any], image_user: str) -> str | None:
    """``verifyRunAsNonRoot``: the kubelet's message when the container would run as root, else None.

    ``image_user`` is the image's ``Config.User`` (``uid``, ``name``, either with ``:group``); empty
    means root, as the kubelet treats an image that names no user.
    """
    security = effective_security(pod.spec, spec)
    if not security.get("runAsNonRoot"):
        return None
    where = f'(pod: "{pod.name}_{pod.namespace}({pod.uid})", container: {spec["name"]})'
    if security.get("runAsUser") is not None:
        return f"container's runAsUser breaks non-root policy {where}" if security["runAsUser"] == 0 else None
    user = image_user.split(":", 1)[0]
    if not user or (user.isdigit() and int(user) == 0):
        return f"container has runAsNonRoot and image will run as root {where}"
    if not user.isdigit():
        return (
            f"container has runAsNonRoot and image has non-numeric user ({user}), "
            f"cannot verify user is non-root {where}"
        )
    return None


def environment(pod: StaticPod, spec: dict[str, Any], node: Node, ip: str) -> dict[str, str]:
    """Env in order, each value expanded against the ones before it (``makeEnvironmentVariables``)."""
    env: dict[str, str] = {}
    for item in spec.get("env") or []:
        if item.get("valueFrom") is not None:  # ``valueFrom: null`` is absent, as the API server reads it
            env[item["name"]] = _env_from(pod, spec, item["valueFrom"], node, ip)
        else:
            env[item["name"]] = expand(str(item.get("value", "")), env)
    return env


def _env_from(pod: StaticPod, spec: dict[str, Any], source: dict[str, Any], node: Node, ip: str) -> str:
    if "fieldRef" in source:
        return field_ref_value(pod, source["fieldRef"]["fieldPath"], ip, node.host_ip)
    ref = source.get("resourceFieldRef") or {}
    resource = ref.get("resource", "")
    section, _, name = resource.partition(".")
    value = ((spec.get("resources") or {}).get(section) or {}).get(name)
    divisor = ref.get("divisor") or "1"
    if not (cpu_millis(divisor) if name == "cpu" else memory_bytes(divisor)):
        divisor = "1"  # "0" means unset, as upstream
    if name == "cpu":
        total = cpu_millis(value) if value else node.cpu_count * 1000
        return str(max(1, -(-total // cpu_millis(divisor))))
    total = memory_bytes(value) if value else node.memory_capacity
    return str(-(-total // max(memory_bytes(divisor), 1)))


def field_ref_value(pod: StaticPod, path: str, ip: str, host_ip: str) -> str:
    """The downward API value of a ``fieldRef`` (``podFieldSelectorRuntimeValue``)."""
    meta = pod.metadata
    simple: dict[str, str] = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "metadata.uid": pod.uid,
        "spec.nodeName": str(pod.spec.get("nodeName", "")),
        "spec.serviceAccountName": str(pod.spec.get("serviceAccountName", "")),
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": ip,
        "status.podIPs": ip,
    }
    if path in simple:
        return simple[path]
    for key in ("labels", "annotations"):
        values = {str(k): str(v) for k, v in (meta.get(key) or {}).items()}
        if path == f"metadata.{key}":
            return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
        prefix = f"metadata.{key}['"
        if path.startswith(prefix) and path.endswith("']"):
            return values.get(path[len(prefix) : -2], "")
    return ""
