"""The rule for each field of the v1 Pod: honoured, accepted and ignored, not supported yet, or refused.

Data, kept apart from the walk that applies it (``fields.py``): one :class:`Rule` per field of each object
type of the schema, with the note a user reads in a warning, an error or docs/pod-fields.md. Some rules
look at the value too (``fine_if``): ``seccompProfile.type: RuntimeDefault`` is fine, ``Localhost`` is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from pykubelet.manifest.validate import API_VOLUMES

__all__ = ["RULES", "Rule", "Support", "Where"]


class Support(str, Enum):
    HONOURED = "honoured"
    IGNORED = "accepted and ignored"
    UNSUPPORTED = "not supported yet (warning)"
    REFUSED = "refused"


@dataclass(frozen=True)
class Where:
    """What a value-dependent rule may look at besides the value."""

    pod: dict[str, Any]
    parent: dict[str, Any]
    container: dict[str, Any] | None
    node_name: str


Predicate = Callable[[Any, Where], bool]


@dataclass(frozen=True)
class Rule:
    support: Support
    note: str = ""
    # values that ask for nothing beyond what pykubelet does: not reported (the docs' words in ``fine_when``)
    fine_if: Predicate | None = None
    fine_when: str = ""
    # an honoured object whose own fields each have a rule (instead of being honoured as a whole)
    fields_too: bool = False
    # a refusal ``validate.py`` makes, in its words; listed here for the table only
    by_validation: bool = False
    kind: str = "Unsupported value"  # the error kind of a refusal
    example: Any = None  # a value that gets the rule's outcome (the unit tests set it)


def _honoured(note: str = "", *, fields_too: bool = False) -> Rule:
    return Rule(Support.HONOURED, note, fields_too=fields_too)


def _ignored(note: str, example: Any, fine_if: Predicate | None = None, fine_when: str = "") -> Rule:
    return Rule(Support.IGNORED, note, fine_if, fine_when, example=example)


def _unsupported(note: str, example: Any, fine_if: Predicate | None = None, fine_when: str = "") -> Rule:
    return Rule(Support.UNSUPPORTED, note, fine_if, fine_when, example=example)


def _refused(
    note: str, example: Any, fine_if: Predicate | None = None, fine_when: str = "", kind: str = ""
) -> Rule:
    return Rule(Support.REFUSED, note, fine_if, fine_when, kind=kind or "Unsupported value", example=example)


def _validated(note: str, example: Any) -> Rule:
    return Rule(Support.REFUSED, note, by_validation=True, example=example)


def _equals(*values: Any) -> Predicate:
    return lambda value, where: value in values


def _only_cpu_and_memory(value: Any, where: Where) -> bool:
    return isinstance(value, dict) and set(value) <= {"cpu", "memory"}


def _linux(value: Any, where: Where) -> bool:
    return isinstance(value, dict) and value.get("name") in (None, "", "linux")


def _this_node(value: Any, where: Where) -> bool:
    return bool(value == where.node_name)


# --- the notes, shared ------------------------------------------------------------------------------------

_NO_SERVICE_ACCOUNT: Final = (
    "there is no API server to hold the ServiceAccount and no token is mounted; the name is only passed "
    "to fieldRef spec.serviceAccountName (newer kubelets refuse static pods that set it)"
)
_SCHEDULER: Final = "only a scheduler acts on it: a static pod is bound to the node that reads it"
_API_SERVER: Final = "bookkeeping of the API server, which a lone kubelet does not have"
_NO_CLUSTER_DOMAIN: Final = (
    "needs a cluster domain, which a kubelet without an API server has not: the hostname stays short"
)
_WINDOWS: Final = "Windows only"
_SELINUX: Final = "SELinux labels are not applied (as on a host with SELinux disabled)"
_API_OBJECT: Final = "names an API object ({}), which a static pod may not reference"
_LOCAL_VOLUMES: Final = "only emptyDir and hostPath volumes are supported"
_PROBER: Final = "run by the prober"
_NOT_YET: Final = "not applied yet"

# (The API server's volume types, API_VOLUMES: validate.py refuses them and says why.)
_OTHER_VOLUMES: Final = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi", "downwardAPI", "fc",
    "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "image", "iscsi", "nfs",
    "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
)  # fmt: skip

_SECURITY_SHARED: Final = {
    "appArmorProfile": _honoured(fields_too=True),
    "runAsGroup": _honoured(),
    "runAsUser": _honoured(),
    "runAsNonRoot": _honoured(
        "checked at start as the kubelet does: a container whose image would run as root (no user, or "
        "uid 0) or names a non-numeric user gets CreateContainerConfigError"
    ),
    "seLinuxOptions": _unsupported(_SELINUX, {"level": "s0:c123,c456"}),
    "seccompProfile": _honoured(fields_too=True),
    "windowsOptions": _ignored(_WINDOWS, {"runAsUserName": "ContainerUser"}),
}
_HANDLER_FIELDS: Final = {"exec": _honoured(), "httpGet": _honoured(fields_too=True)}

# Definition (as the schema names it) -> field -> rule. ``Pod`` is the schema's root.
RULES: Final[dict[str, dict[str, Rule]]] = {
    "Pod": {
        "apiVersion": _honoured("must be `v1`"),
        "kind": _honoured("must be `Pod`"),
        "metadata": _honoured(fields_too=True),
        "spec": _honoured(fields_too=True),
        "status": _ignored("written by the kubelet, never read from a manifest", {"phase": "Running"}),
    },
    "ObjectMeta": {
        "name": _honoured("the pod is `<name>-<node>`"),
        "namespace": _honoured("`default` when not given"),
        "labels": _honoured(),
        "annotations": _honoured(),
        "uid": _honoured("used as the pod's UID instead of the content hash, as the kubelet does"),
        "generateName": _ignored(
            "names are generated by the API server, and a static pod needs `name`", "web-"
        ),
        "creationTimestamp": _ignored(_API_SERVER, "2024-01-01T00:00:00Z"),
        "deletionGracePeriodSeconds": _ignored(_API_SERVER, 30),
        "deletionTimestamp": _ignored(_API_SERVER, "2024-01-01T00:00:00Z"),
        "finalizers": _ignored(_API_SERVER, ["example.com/cleanup"]),
        "generation": _ignored(_API_SERVER, 1),
        "managedFields": _ignored(_API_SERVER, [{"manager": "kubectl"}]),
        "ownerReferences": _ignored(
            _API_SERVER, [{"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "1"}]
        ),
        "resourceVersion": _ignored(_API_SERVER, "1"),
        "selfLink": _ignored(_API_SERVER, "/api/v1/namespaces/default/pods/web"),
    },
    "PodSpec": {
        "activeDeadlineSeconds": _unsupported(
            "no deadline is enforced yet: the pod runs until it ends by itself", 60
        ),
        "affinity": _ignored(_SCHEDULER, {"nodeAffinity": {}}),
        "automountServiceAccountToken": _ignored(
            "there is no API server, so no ServiceAccount token is mounted either way", False
        ),
        "containers": _honoured(fields_too=True),
        "dnsConfig": _honoured(fields_too=True),
        "dnsPolicy": _honoured(
            "there is no cluster DNS: `ClusterFirst` resolves like `Default` with a MissingClusterDNS "
            "warning, as on a kubelet without `--cluster-dns`; `None` uses `dnsConfig` alone; the result "
            "is the pod's resolv.conf, bind-mounted into every container"
        ),
        "enableServiceLinks": _honoured("there are no Services, so no service variables either way"),
        "ephemeralContainers": _refused(
            "cannot be set on create: ephemeral containers are added to a running pod through the API",
            [{"name": "debug", "image": "busybox:1.35"}],
            kind="Forbidden",
        ),
        "evictionResponders": _ignored(
            "acted on by API-initiated eviction, which needs an API server", [{"name": "x", "priority": 1}]
        ),
        "hostAliases": _honoured("written to the pod's /etc/hosts"),
        "hostIPC": _honoured(),
        "hostNetwork": _honoured(),
        "hostPID": _honoured(),
        "hostUsers": _refused(
            "user namespaces are not supported (Docker's user-namespace remapping is daemon-wide): the pod "
            "would run with less isolation than it asks for",
            False,
            _equals(True),
            "`true`",
        ),
        "hostname": _honoured(),
        "hostnameOverride": _unsupported(
            f"{_NOT_YET}: the hostname is `hostname`, else the pod name", "web.example.com"
        ),
        "imagePullSecrets": _validated(
            _API_OBJECT.format("Secret") + ": log the node's Docker engine in to the registry instead",
            [{"name": "regcred"}],
        ),
        "initContainers": _honoured(fields_too=True),
        "nodeName": _ignored(
            "a static pod runs on the node whose kubelet reads it: set to this node's name",
            "node-0",
            _this_node,
            "it is this node's name",
        ),
        "nodeSelector": _honoured("checked against the node's labels (`--node-labels`) at admission"),
        "os": _refused(
            "this node runs Linux", {"name": "windows"}, _linux, "`name: linux`", kind="Forbidden"
        ),
        "overhead": _ignored("set by RuntimeClass admission in the API server", {"cpu": "100m"}),
        "preemptionPolicy": _ignored(
            _SCHEDULER, "Never", _equals("PreemptLowerPriority"), "`PreemptLowerPriority`"
        ),
        "priority": _ignored(_SCHEDULER, 2000001000, _equals(0), "`0`"),
        "priorityClassName": _ignored(_SCHEDULER, "system-node-critical"),
        "readinessGates": _ignored(
            "their conditions can only be set through the API: Ready follows the containers alone",
            [{"conditionType": "example.com/ready"}],
        ),
        "resourceClaims": _validated(
            _API_OBJECT.format("ResourceClaim"), [{"name": "gpu", "resourceClaimName": "gpu"}]
        ),
        "resources": _unsupported(
            "pod-level requests and limits are not applied yet: set them on each container",
            {"limits": {"cpu": "1"}},
        ),
        "restartPolicy": _honoured(),
        "runtimeClassName": _refused(
            "pykubelet runs every pod with Docker's default runtime, and a kubelet refuses a pod whose "
            "RuntimeClass it cannot find",
            "gvisor",
        ),
        "schedulerName": _ignored(
            _SCHEDULER, "my-scheduler", _equals("default-scheduler"), "`default-scheduler`"
        ),
        "schedulingGates": _ignored(_SCHEDULER, [{"name": "example.com/gate"}]),
        "schedulingGroup": _ignored(_SCHEDULER, {"podGroupName": "group"}),
        "securityContext": _honoured(fields_too=True),
        "serviceAccount": _ignored(_NO_SERVICE_ACCOUNT, "build-robot"),
        "serviceAccountName": _ignored(_NO_SERVICE_ACCOUNT, "build-robot"),
        "setHostnameAsFQDN": _ignored(_NO_CLUSTER_DOMAIN, True),
        "shareProcessNamespace": _honoured(),
        "subdomain": _ignored(_NO_CLUSTER_DOMAIN, "web"),
        "terminationGracePeriodSeconds": _honoured("at least 2 s, as the kubelet"),
        "tolerations": _ignored(_SCHEDULER, [{"operator": "Exists"}]),
        "topologySpreadConstraints": _ignored(
            _SCHEDULER, [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]
        ),
        "volumes": _honoured(fields_too=True),
    },
    "PodDNSConfig": {
        "nameservers": _honoured(),
        "searches": _honoured(),
        "options": _honoured("merged over the host's options, the pod's winning (`appendDNSConfig`)"),
    },
    "PodSecurityContext": {
        **_SECURITY_SHARED,
        "fsGroup": _honoured(
            "added to every container's groups; emptyDir volumes are handed to the group (setgid, group "
            "read-write) when they are made"
        ),
        "fsGroupChangePolicy": _honoured(),
        "seLinuxChangePolicy": _unsupported(_SELINUX, "Recursive"),
        "supplementalGroups": _honoured(),
        "supplementalGroupsPolicy": _unsupported(
            "`Strict` is not applied yet: the image's groups are kept", "Strict", _equals("Merge"), "`Merge`"
        ),
        "sysctls": _unsupported(
            "sysctls are not set yet", [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"}]
        ),
    },
    "SecurityContext": {
        **_SECURITY_SHARED,
        "allowPrivilegeEscalation": _honoured("`false` sets no_new_privs (Docker's no-new-privileges)"),
        "capabilities": _honoured(),
        "privileged": _honoured(),
        "procMount": _unsupported(
            "`Unmasked` is not applied yet: /proc is masked as by default",
            "Unmasked",
            _equals("Default"),
            "`Default`",
        ),
        "readOnlyRootFilesystem": _honoured(),
    },
    "SeccompProfile": {
        "type": _unsupported(
            "Docker's default profile (`RuntimeDefault`) is applied",
            "Unconfined",
            _equals("RuntimeDefault"),
            "`RuntimeDefault`: Docker's default profile",
        ),
        "localhostProfile": _refused(
            "pykubelet cannot load a seccomp profile from the node yet", "audit.json"
        ),
    },
    "AppArmorProfile": {
        "type": _unsupported(
            "Docker's default profile (`RuntimeDefault`) is applied where AppArmor is enabled",
            "Unconfined",
            _equals("RuntimeDefault"),
            "`RuntimeDefault`: Docker's default profile",
        ),
        "localhostProfile": _refused("pykubelet cannot load an AppArmor profile yet", "k8s-deny-write"),
    },
    "Container": {
        "name": _honoured(),
        "image": _honoured(),
        "imagePullPolicy": _honoured(),
        "command": _honoured(),
        "args": _honoured(),
        "workingDir": _honoured(),
        "env": _honoured(fields_too=True),
        "envFrom": _validated(_API_OBJECT.format("ConfigMap or Secret"), [{"configMapRef": {"name": "cfg"}}]),
        "ports": _honoured("`hostPort` is published on the node"),
        "resources": _honoured(fields_too=True),
        "securityContext": _honoured(fields_too=True),
        "livenessProbe": _honoured(_PROBER, fields_too=True),
        "readinessProbe": _honoured(_PROBER, fields_too=True),
        "startupProbe": _honoured(_PROBER, fields_too=True),
        "lifecycle": _honoured(fields_too=True),
        "volumeMounts": _honoured(fields_too=True),
        "volumeDevices": _refused(
            "raw block devices need a block-mode PersistentVolumeClaim",
            [{"name": "data", "devicePath": "/dev/xvda"}],
        ),
        "resizePolicy": _ignored(
            "in-place resizing goes through the API server",
            [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
        ),
        "restartPolicy": _validated(
            "sidecar init containers (`restartPolicy: Always`) are not run yet", "Always"
        ),
        "restartPolicyRules": _unsupported(
            f"{_NOT_YET}: the pod's restartPolicy decides",
            [{"action": "Restart", "exitCodes": {"operator": "In", "values": [42]}}],
        ),
        "stdin": _honoured(),
        "tty": _honoured(),
        "stdinOnce": _ignored("only matters to an attach session, and pykubelet serves none", True),
        "terminationMessagePath": _honoured(),
        "terminationMessagePolicy": _honoured(
            "`FallbackToLogsOnError`: the last 80 lines (2 KiB) of the log of a failed container whose "
            "message file is empty"
        ),
    },
    "EnvVar": {"name": _honoured(), "value": _honoured(), "valueFrom": _honoured(fields_too=True)},
    "EnvVarSource": {
        "fieldRef": _honoured(),
        "resourceFieldRef": _honoured(),
        "configMapKeyRef": _validated(_API_OBJECT.format("ConfigMap"), {"name": "cfg", "key": "a"}),
        "secretKeyRef": _validated(_API_OBJECT.format("Secret"), {"name": "creds", "key": "a"}),
        "fileKeyRef": _refused(
            "variables are not read from files yet", {"volumeName": "cfg", "path": "env", "key": "A"}
        ),
    },
    "ResourceRequirements": {
        "limits": _unsupported(
            "only `cpu` and `memory` are enforced yet",
            {"ephemeral-storage": "1Gi"},
            _only_cpu_and_memory,
            "`cpu` and `memory`",
        ),
        "requests": _unsupported(
            "only `cpu` and `memory` are enforced yet",
            {"ephemeral-storage": "1Gi"},
            _only_cpu_and_memory,
            "`cpu` and `memory`",
        ),
        "claims": _validated(_API_OBJECT.format("ResourceClaim"), [{"name": "gpu"}]),
    },
    "Lifecycle": {
        "postStart": _honoured(fields_too=True),
        "preStop": _honoured(fields_too=True),
        "stopSignal": _unsupported(f"{_NOT_YET}: the image's stop signal (or SIGTERM) is sent", "SIGUSR1"),
    },
    "LifecycleHandler": {
        **_HANDLER_FIELDS,
        "sleep": _honoured(),
        "tcpSocket": _honoured("pykubelet connects; the kubelet itself skips tcpSocket hooks (deprecated)"),
    },
    "Probe": {
        **_HANDLER_FIELDS,
        "grpc": _honoured(fields_too=True),
        "tcpSocket": _honoured(),
        "initialDelaySeconds": _honoured(),
        "periodSeconds": _honoured(),
        "timeoutSeconds": _honoured(),
        "successThreshold": _honoured(),
        "failureThreshold": _honoured(),
        "terminationGracePeriodSeconds": _honoured(),
    },
    "HTTPGetAction": {
        "host": _honoured(),
        "httpHeaders": _honoured(),
        "path": _honoured(),
        "port": _honoured(),
        "scheme": _honoured(),
        "protocol": _unsupported(f"{_NOT_YET}: requests are HTTP/1.1", "HTTP/2"),
    },
    "GRPCAction": {
        "port": _honoured(),
        "service": _honoured(),
        "mode": _unsupported(_NOT_YET, "Insecure"),
    },
    "VolumeMount": {
        "name": _honoured(),
        "mountPath": _honoured(),
        "readOnly": _honoured(),
        "subPath": _honoured(),
        "subPathExpr": _refused(
            "sub-paths with variables are not expanded yet, and mounting the whole volume instead would "
            "show the container more than it asks for",
            "$(POD_NAME)",
        ),
        "mountPropagation": _unsupported(
            "mounts are private: later mounts do not propagate yet",
            "HostToContainer",
            _equals("None"),
            "`None`",
        ),
        "recursiveReadOnly": _refused(
            "read-only mounts are not recursive yet: sub-mounts would stay writable",
            "Enabled",
            _equals("Disabled", "IfPossible"),
            "`Disabled` or `IfPossible`",
        ),
        "bindMountOptions": _unsupported(_NOT_YET, ["nosuid"]),
    },
    "Volume": {
        "name": _honoured(),
        "emptyDir": _honoured(fields_too=True),
        "hostPath": _honoured("checked by `type`, created for the `...OrCreate` types"),
        **{key: _validated(_API_OBJECT.format(kind), {}) for key, kind in API_VOLUMES.items()},
        **{key: _validated(_LOCAL_VOLUMES, {}) for key in _OTHER_VOLUMES},
    },
    "EmptyDirVolumeSource": {
        "medium": _honoured("`Memory` is a tmpfs"),
        "sizeLimit": _honoured(
            "`Memory`: the tmpfs size; on disk: a volume grown past it is reported, not evicted "
            "(checked every 10 s, as the kubelet's eviction manager; a static pod is critical, never evicted)"
        ),
        "mode": _unsupported(f"{_NOT_YET}: an emptyDir is world-writable (0777)", 0o750),
    },
}
