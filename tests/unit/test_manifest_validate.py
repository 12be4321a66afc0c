"""Validation errors read exactly like kubectl's, are all collected, and never come from a crash."""

from __future__ import annotations

from typing import Any

import pytest

from pykubelet.manifest.defaults import apply_defaults
from pykubelet.manifest.validate import validate_pod

# kubectl's own wording (k8s.io/apimachinery/pkg/util/validation), including its double spaces.
DNS_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS_SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
QUALIFIED_NAME = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
ENV_NAME = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and "
    "must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
    "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
)
NO_API_SERVER = "pykubelet runs static pods without an API server"
LOCAL_ONLY = "pykubelet supports only emptyDir and hostPath volumes"
FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
NOT_AN_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
RESTART_POLICIES = 'supported values: "Always", "OnFailure", "Never"'


def api_reference(kind: str, hint: str = "") -> str:
    text = f"a static pod may not reference API objects ({kind}); {NO_API_SERVER}"
    return f"{text}: {hint}" if hint else text


LOGS = {"name": "logs", "emptyDir": {}}
LIST_UNDER_ENV = "list the variables under `env`"


def container(name: str = "web", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "nginx:1.25", **fields}


def pod(*containers: dict[str, Any], metadata: Any = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"} if metadata is None else metadata,
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def errors(document: dict[str, Any]) -> list[str]:
    return [str(error) for error in validate_pod(apply_defaults(document))]


CONTAINER = "spec.containers[0]."


def container_errors(**fields: Any) -> list[str]:
    """The errors of a one-container pod, relative to that container (``spec.containers[0].`` dropped)."""
    found = errors(pod(container(**fields), volumes=[LOGS]))
    assert all(error.startswith(CONTAINER) for error in found), found
    return [error.removeprefix(CONTAINER) for error in found]


# --- whole pods --------------------------------------------------------------------------------------------


def test_the_walkthrough_pod_is_valid() -> None:
    nginx = container(
        "nginx",
        ports=[{"name": "http", "containerPort": 80, "hostPort": 8080}],
        volumeMounts=[{"name": "logs", "mountPath": "/var/log/nginx"}],
        resources={"limits": {"cpu": "500m", "memory": "128Mi"}},
        readinessProbe={"httpGet": {"port": "http"}},
        livenessProbe={"tcpSocket": {"port": 80}, "initialDelaySeconds": 5},
        lifecycle={"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}},
    )
    truncator = container(
        "truncator",
        image="busybox",
        command=["sh", "-c", "while true; do : > /logs/access.log; sleep 60; done"],
        env=[{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
        volumeMounts=[{"name": "logs", "mountPath": "/logs"}],
        securityContext={"runAsUser": 65534, "capabilities": {"drop": ["ALL"]}},
    )
    init = container("init", image="busybox", command=["true"])
    metadata = {
        "name": "nginx-truncator",
        "namespace": "kube-system",
        "labels": {"app": "nginx", "example.com/tier": "web"},
        "annotations": {"Example.com/Owner": "me"},
    }
    document = pod(nginx, truncator, initContainers=[init], volumes=[LOGS], metadata=metadata)
    assert errors(document) == []


def test_every_error_is_collected() -> None:
    document = pod(
        container("Web", image=""),
        container("web", ports=[{"containerPort": 0}]),
        metadata={"name": "Web_1"},
        restartPolicy="Sometimes",
    )
    assert errors(document) == [
        f'metadata.name: Invalid value: "Web_1": {DNS_SUBDOMAIN}',
        f'spec.restartPolicy: Unsupported value: "Sometimes": {RESTART_POLICIES}',
        f'spec.containers[0].name: Invalid value: "Web": {DNS_LABEL}',
        "spec.containers[0].image: Required value",
        "spec.containers[1].ports[0].containerPort: Required value",
    ]


def test_a_pod_that_is_not_an_object() -> None:
    not_a_pod: Any = "web"
    assert [str(e) for e in validate_pod(not_a_pod)] == ['Invalid value: "web": must be an object']


# --- metadata ----------------------------------------------------------------------------------------------

NAME_REQUIRED = (
    "metadata.name: Required value: name is required (generateName is not supported for static pods)"
)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({}, [NAME_REQUIRED]),
        ({"name": ""}, [NAME_REQUIRED]),
        ({"name": None}, [NAME_REQUIRED]),
        ({"name": "Web_1"}, [f'metadata.name: Invalid value: "Web_1": {DNS_SUBDOMAIN}']),
        (
            {"name": "a" * 254},
            [f'metadata.name: Invalid value: "{"a" * 254}": must be no more than 253 characters'],
        ),
        ({"name": 7}, ["metadata.name: Invalid value: 7: must be a string"]),
        (
            {"name": "web", "namespace": "kube.system"},
            [f'metadata.namespace: Invalid value: "kube.system": {DNS_LABEL}'],
        ),
        ({"name": "web", "uid": 5}, ["metadata.uid: Invalid value: 5: must be a string"]),
        ("web", ['metadata: Invalid value: "web": must be an object']),
    ],
)
def test_metadata_name_and_namespace(metadata: Any, expected: list[str]) -> None:
    document = pod(metadata=metadata)
    if metadata == {}:
        del document["metadata"]
    assert errors(document) == expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"app": "web", "example.com/tier": "front_end-1", "empty": ""}, []),
        ({"bad key": "x"}, [f'metadata.labels: Invalid value: "bad key": name part {QUALIFIED_NAME}']),
        ({"/app": "x"}, ['metadata.labels: Invalid value: "/app": prefix part must be non-empty']),
        (
            {"Example.com/app": "x"},
            [f'metadata.labels: Invalid value: "Example.com/app": prefix part {DNS_SUBDOMAIN}'],
        ),
        (
            {"a/b/c": "x"},
            [
                f'metadata.labels: Invalid value: "a/b/c": a qualified name {QUALIFIED_NAME} '
                "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (
            {"k" * 64: "x"},
            [f'metadata.labels: Invalid value: "{"k" * 64}": name part must be no more than 63 characters'],
        ),
        ({"app": "not ok"}, [f'metadata.labels: Invalid value: "not ok": {LABEL_VALUE}']),
        (
            {"app": "v" * 64},
            [f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters'],
        ),
        ({"version": 1.5}, ["metadata.labels[version]: Invalid value: 1.5: must be a string"]),
        ("app=web", ['metadata.labels: Invalid value: "app=web": must be an object']),
    ],
)
def test_labels(labels: Any, expected: list[str]) -> None:
    assert errors(pod(metadata={"name": "web", "labels": labels})) == expected


def test_annotations_need_string_values_qualified_keys_and_a_size_limit() -> None:
    assert errors(pod(metadata={"name": "web", "annotations": {"Team.Example.com/Owner": "me"}})) == []
    assert errors(pod(metadata={"name": "web", "annotations": {"replicas": 3, "bad key": "x"}})) == [
        "metadata.annotations[replicas]: Invalid value: 3: must be a string",
        f'metadata.annotations: Invalid value: "bad key": name part {QUALIFIED_NAME}',
    ]
    huge = {"a": "x" * 200_000, "b": "y" * 70_000}
    assert errors(pod(metadata={"name": "web", "annotations": huge})) == [
        "metadata.annotations: Too long: must have at most 262144 bytes"
    ]


# --- containers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("containers", "expected"),
    [
        (None, ["spec.containers: Required value"]),
        ([], ["spec.containers: Required value"]),
        ("nginx", ['spec.containers: Invalid value: "nginx": must be a list']),
        (["nginx"], ['spec.containers[0]: Invalid value: "nginx": must be an object']),
        ([{"image": "nginx"}], ["spec.containers[0].name: Required value"]),
        ([{"name": "web"}], ["spec.containers[0].image: Required value"]),
        (
            [container(image=" nginx")],
            [
                'spec.containers[0].image: Invalid value: " nginx": '
                "must not have leading or trailing whitespace"
            ],
        ),
        ([container(), container()], ['spec.containers[1].name: Duplicate value: "web"']),
        ([container("web_1")], [f'spec.containers[0].name: Invalid value: "web_1": {DNS_LABEL}']),
    ],
)
def test_container_list_names_and_images(containers: Any, expected: list[str]) -> None:
    document = pod()
    document["spec"]["containers"] = containers
    assert errors(document) == expected


def test_names_are_unique_across_init_and_app_containers() -> None:
    document = pod(
        container("web"), initContainers=[container("setup"), container("web"), container("setup")]
    )
    assert errors(document) == [
        'spec.initContainers[1].name: Duplicate value: "web"',
        'spec.initContainers[2].name: Duplicate value: "setup"',
    ]


def test_init_containers_get_the_same_checks() -> None:
    document = pod(initContainers=[container("init", image="", imagePullPolicy="Sometimes", tty="yes")])
    assert errors(document) == [
        "spec.initContainers[0].image: Required value",
        'spec.initContainers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"IfNotPresent", "Never"',
        'spec.initContainers[0].tty: Invalid value: "yes": must be a boolean',
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"command": "nginx -g daemon off"},
            ['command: Invalid value: "nginx -g daemon off": must be a list'],
        ),
        ({"args": ["-c", 5]}, ["args[1]: Invalid value: 5: must be a string"]),
        ({"workingDir": 1}, ["workingDir: Invalid value: 1: must be a string"]),
        ({"stdin": "true"}, ['stdin: Invalid value: "true": must be a boolean']),
        (
            {"terminationMessagePolicy": "Always"},
            [
                'terminationMessagePolicy: Unsupported value: "Always": '
                'supported values: "File", "FallbackToLogsOnError"'
            ],
        ),
        ({"imagePullPolicy": "Never", "stdinOnce": False, "tty": True}, []),
    ],
)
def test_container_scalars(fields: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(**fields) == expected


# --- env ---------------------------------------------------------------------------------------------------


def field_ref(path: str) -> dict[str, Any]:
    return {"name": "X", "valueFrom": {"fieldRef": {"fieldPath": path}}}


@pytest.mark.parametrize(
    "path",
    [
        "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
        "metadata.labels['app']", "metadata.annotations['Example.com/Owner']", "spec.nodeName",
        "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
    ],
)  # fmt: skip
def test_supported_field_refs(path: str) -> None:
    assert container_errors(env=[field_ref(path)]) == []


ENV_SOURCES = "`fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ([{"value": "x"}], ["env[0].name: Required value"]),
        ([{"name": "1ST"}], [f'env[0].name: Invalid value: "1ST": {ENV_NAME}']),
        ([{"name": ".."}], ["env[0].name: Invalid value: \"..\": must not be '..'"]),
        ([{"name": "A", "value": 1}], ["env[0].value: Invalid value: 1: must be a string"]),
        ({"A": "b"}, ['env: Invalid value: {"A": "b"}: must be a list']),
        (
            [field_ref("spec.hostname")],
            [
                'env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": '
                'supported values: "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", '
                '"metadata.annotations", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
                '"status.hostIPs", "status.podIP", "status.podIPs"'
            ],
        ),
        (
            [field_ref("metadata.labels['bad key']")],
            [f'env[0].valueFrom.fieldRef.fieldPath: Invalid value: "bad key": name part {QUALIFIED_NAME}'],
        ),
        (
            [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v2"}}}],
            ['env[0].valueFrom.fieldRef.apiVersion: Unsupported value: "v2": supported values: "v1"'],
        ),
        (
            [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}],
            [
                "env[0].valueFrom.configMapKeyRef: Forbidden: a static pod may not reference API "
                f"objects (ConfigMap); {NO_API_SERVER}: set the variable with `value`"
            ],
        ),
        (
            [{"name": "X", "valueFrom": {"secretKeyRef": {}}}],
            [
                "env[0].valueFrom.secretKeyRef: Forbidden: a static pod may not reference API "
                f"objects (Secret); {NO_API_SERVER}: set the variable with `value`"
            ],
        ),
        (
            [{"name": "X", "valueFrom": {}}],
            [f'env[0].valueFrom: Invalid value: "": must specify one of: {ENV_SOURCES}'],
        ),
        (
            [
                {
                    "name": "X",
                    "valueFrom": {
                        "fieldRef": {"fieldPath": "metadata.name"},
                        "resourceFieldRef": {"resource": "limits.cpu"},
                    },
                }
            ],
            ['env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time'],
        ),
        (
            [{"name": "X", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
            ['env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
        ),
        (
            [{"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}],
            [],
        ),
        (
            [
                {
                    "name": "MEM",
                    "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}},
                }
            ],
            [],
        ),
        (
            [
                {
                    "name": "CPU",
                    "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "10m"}},
                }
            ],
            [
                'env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "limits.cpu": '
                "only divisor's values 1m, 1 are supported with the cpu resource"
            ],
        ),
        (
            [{"name": "GPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}],
            [
                'env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": '
                'supported values: "limits.cpu", "limits.memory", "limits.ephemeral-storage", '
                '"requests.cpu", '
                '"requests.memory", "requests.ephemeral-storage"'
            ],
        ),
    ],
)
def test_env(env: Any, expected: list[str]) -> None:
    assert container_errors(env=env) == expected


@pytest.mark.parametrize(
    ("env_from", "expected"),
    [
        (
            [{"configMapRef": {"name": "cfg"}}],
            [f"envFrom[0].configMapRef: Forbidden: {api_reference('ConfigMap', LIST_UNDER_ENV)}"],
        ),
        (
            [{"secretRef": {"name": "s"}, "prefix": "1X"}],
            [
                f'envFrom[0].prefix: Invalid value: "1X": {ENV_NAME}',
                f"envFrom[0].secretRef: Forbidden: {api_reference('Secret', LIST_UNDER_ENV)}",
            ],
        ),
        (
            [{"prefix": "X_"}],
            ['envFrom[0]: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
        ),
    ],
)
def test_env_from_names_api_objects(env_from: list[Any], expected: list[str]) -> None:
    assert container_errors(envFrom=env_from) == expected


# --- ports -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        (
            [
                {
                    "name": "http",
                    "containerPort": 80,
                    "hostPort": 8080,
                    "protocol": "UDP",
                    "hostIP": "127.0.0.1",
                }
            ],
            [],
        ),
        ([{"name": "http"}], ["ports[0].containerPort: Required value"]),
        ([{"containerPort": 0}], ["ports[0].containerPort: Required value"]),
        (
            [{"containerPort": 70000}],
            ["ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"],
        ),
        ([{"containerPort": "80"}], ['ports[0].containerPort: Invalid value: "80": must be an integer']),
        (
            [{"containerPort": 80, "hostPort": -1}],
            ["ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive"],
        ),
        (
            [{"containerPort": 80, "protocol": "ICMP"}],
            ['ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
        ),
        (
            [{"containerPort": 80, "hostIP": "localhost"}],
            [f'ports[0].hostIP: Invalid value: "localhost": {NOT_AN_IP}'],
        ),
        (
            [{"containerPort": 80, "name": "metrics-endpoint"}],
            ['ports[0].name: Invalid value: "metrics-endpoint": must be no more than 15 characters'],
        ),
        (
            [{"containerPort": 80, "name": "-HTTP--"}],
            [
                'ports[0].name: Invalid value: "-HTTP--": '
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                'ports[0].name: Invalid value: "-HTTP--": must contain at least one letter (a-z)',
                'ports[0].name: Invalid value: "-HTTP--": must not contain consecutive hyphens',
                'ports[0].name: Invalid value: "-HTTP--": must not begin or end with a hyphen',
            ],
        ),
        (
            [{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}],
            ['ports[1].name: Duplicate value: "http"'],
        ),
        (
            [{"containerPort": 80, "hostPort": 80}, {"containerPort": 81, "hostPort": 80, "protocol": "UDP"}],
            [],
        ),
    ],
)
def test_ports(ports: list[Any], expected: list[str]) -> None:
    assert container_errors(ports=ports) == expected


def test_host_ports_are_unique_per_pod_and_protocol() -> None:
    def on_host_port(name: str, port: int) -> dict[str, Any]:
        return container(name, ports=[{"containerPort": port, "hostPort": 8080}])

    document = pod(on_host_port("a", 80), on_host_port("b", 81), initContainers=[on_host_port("init", 82)])
    assert errors(document) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']


def test_host_network_defaults_host_ports_and_then_requires_them_equal() -> None:
    ports = [{"containerPort": 80}, {"containerPort": 443, "hostPort": 8443}]
    assert errors(pod(container(ports=ports), hostNetwork=True)) == [
        "spec.containers[0].ports[1].hostPort: Invalid value: 8443: "
        "must match `containerPort` when `hostNetwork` is true"
    ]


def test_host_network_containers_collide_on_their_container_ports() -> None:
    port_80 = [{"containerPort": 80}]
    document = pod(container("a", ports=port_80), container("b", ports=port_80), hostNetwork=True)
    assert errors(document) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"']


# --- volume mounts -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mounts", "expected"),
    [
        ([{"name": "logs", "mountPath": "/logs", "subPath": "nginx", "readOnly": True}], []),
        ([{"name": "data", "mountPath": "/data"}], ['volumeMounts[0].name: Not found: "data"']),
        ([{"mountPath": "/logs"}], ["volumeMounts[0].name: Required value"]),
        ([{"name": "logs"}], ["volumeMounts[0].mountPath: Required value"]),
        (
            [{"name": "logs", "mountPath": "logs"}],
            ['volumeMounts[0].mountPath: Invalid value: "logs": must be an absolute path'],
        ),
        (
            [{"name": "logs", "mountPath": "/logs"}, {"name": "logs", "mountPath": "/logs"}],
            ['volumeMounts[1].mountPath: Invalid value: "/logs": must be unique'],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "subPath": "/abs"}],
            ['volumeMounts[0].subPath: Invalid value: "/abs": must be a relative path'],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "subPath": "a/../../etc"}],
            ["volumeMounts[0].subPath: Invalid value: \"a/../../etc\": must not contain '..'"],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "readOnly": "yes"}],
            ['volumeMounts[0].readOnly: Invalid value: "yes": must be a boolean'],
        ),
        (
            [{"name": "logs", "mountPath": "/l", "mountPropagation": "Shared"}],
            [
                'volumeMounts[0].mountPropagation: Unsupported value: "Shared": '
                'supported values: "Bidirectional", "HostToContainer", "None"'
            ],
        ),
    ],
)
def test_volume_mounts(mounts: list[Any], expected: list[str]) -> None:
    assert container_errors(volumeMounts=mounts) == expected


def test_the_same_mount_path_in_two_containers_is_fine() -> None:
    mount = [{"name": "logs", "mountPath": "/logs"}]
    assert (
        errors(pod(container("a", volumeMounts=mount), container("b", volumeMounts=mount), volumes=[LOGS]))
        == []
    )


# --- resources ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"limits": {"cpu": 1, "memory": "128Mi"}, "requests": {"cpu": 0.5, "memory": "64Mi"}}, []),
        (
            {"limits": {"cpu": "1"}, "requests": {"cpu": "2"}},
            ['resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
        ),
        (
            {"limits": {"memory": "1Gi"}, "requests": {"memory": "1.5Gi"}},
            [
                'resources.requests: Invalid value: "1536Mi": '
                "must be less than or equal to memory limit of 1Gi"
            ],
        ),
        ({"limits": {"cpu": "1000m"}, "requests": {"cpu": "1"}}, []),
        (
            {"limits": {"memory": "1GB"}},
            [
                f'resources.limits[memory]: Invalid value: "1GB": {FORMAT_WRONG}',
                f'resources.requests[memory]: Invalid value: "1GB": {FORMAT_WRONG}',
            ],
        ),
        (
            {"requests": {"memory": "1K"}},
            [
                "resources.requests[memory]: Invalid value: \"1K\": unable to parse quantity's suffix 'K': "
                "suffixes are case-sensitive (n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei, "
                "or an exponent such as e3)"
            ],
        ),
        (
            {"requests": {"cpu": "-100m"}},
            ['resources.requests[cpu]: Invalid value: "-100m": must be greater than or equal to 0'],
        ),
        (
            {"requests": {"cpu": "10E"}},
            [
                'resources.requests[cpu]: Invalid value: "10E": '
                "the quantity is too large: it must fit in a 64-bit integer"
            ],
        ),
        (
            {"requests": {"gpu": "1"}},
            ['resources.requests: Invalid value: "gpu": must be a standard resource for containers'],
        ),
        (
            {"requests": {"memory": True}},
            [
                "resources.requests[memory]: Invalid value: true: "
                "a quantity must be a string or a number, not bool"
            ],
        ),
        (
            {"limits": {"example.com/fpga": "2"}, "requests": {"example.com/fpga": "1"}},
            ['resources.requests: Invalid value: "1": must be equal to example.com/fpga limit of 2'],
        ),
        ({"limits": ["cpu"]}, ['resources.limits: Invalid value: ["cpu"]: must be an object']),
        (
            {"claims": [{"name": "gpu"}]},
            [f"resources.claims: Forbidden: {api_reference('ResourceClaim')}"],
        ),
        ("1 cpu", ['resources: Invalid value: "1 cpu": must be an object']),
    ],
)
def test_resources(resources: Any, expected: list[str]) -> None:
    assert container_errors(resources=resources) == expected


# --- security context --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            {
                "runAsUser": 0,
                "runAsGroup": 0,
                "runAsNonRoot": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            },
            [],
        ),
        (
            {"runAsUser": -1},
            ["securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"],
        ),
        ({"runAsGroup": "root"}, ['securityContext.runAsGroup: Invalid value: "root": must be an integer']),
        ({"privileged": "true"}, ['securityContext.privileged: Invalid value: "true": must be a boolean']),
        (
            {"capabilities": {"add": "NET_ADMIN"}},
            ['securityContext.capabilities.add: Invalid value: "NET_ADMIN": must be a list'],
        ),
        (
            {"capabilities": {"drop": [1]}},
            ["securityContext.capabilities.drop[0]: Invalid value: 1: must be a string"],
        ),
        (
            {"privileged": True, "allowPrivilegeEscalation": False},
            [
                'securityContext: Invalid value: {"allowPrivilegeEscalation": false, "privileged": true}: '
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            ],
        ),
    ],
)
def test_container_security_context(context: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(securityContext=context) == expected


# --- probes and lifecycle ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ({"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 5}, []),
        (
            {
                "httpGet": {
                    "port": "http",
                    "path": "/healthz",
                    "scheme": "HTTPS",
                    "httpHeaders": [{"name": "X", "value": "y"}],
                }
            },
            [],
        ),
        ({"grpc": {"port": 9000}}, []),
        ({"periodSeconds": 5}, ["livenessProbe: Required value: must specify a handler type"]),
        (
            {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}},
            ["livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"],
        ),
        ({"exec": {}}, ["livenessProbe.exec.command: Required value"]),
        ({"exec": ["true"]}, ['livenessProbe.exec: Invalid value: ["true"]: must be an object']),
        ({"httpGet": {"path": "/"}}, ["livenessProbe.httpGet.port: Required value"]),
        (
            {"httpGet": {"port": 0}},
            ["livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"],
        ),
        (
            {"tcpSocket": {"port": "8080"}},
            ['livenessProbe.tcpSocket.port: Invalid value: "8080": must contain at least one letter (a-z)'],
        ),
        (
            {"tcpSocket": {"port": [80]}},
            ["livenessProbe.tcpSocket.port: Invalid value: [80]: must be an integer or a string"],
        ),
        (
            {"httpGet": {"port": 80, "scheme": "FTP"}},
            ['livenessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"'],
        ),
        (
            {"exec": {"command": ["true"]}, "periodSeconds": -1},
            ["livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"exec": {"command": ["true"]}, "timeoutSeconds": "1s"},
            ['livenessProbe.timeoutSeconds: Invalid value: "1s": must be an integer'],
        ),
        (
            {"exec": {"command": ["true"]}, "successThreshold": 2},
            ["livenessProbe.successThreshold: Invalid value: 2: must be 1"],
        ),
    ],
)
def test_liveness_probe(probe: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(livenessProbe=probe) == expected


def test_only_readiness_may_need_several_successes() -> None:
    probe = {"exec": {"command": ["true"]}, "successThreshold": 3}
    assert container_errors(readinessProbe=probe) == []
    assert container_errors(startupProbe=probe) == [
        "startupProbe.successThreshold: Invalid value: 3: must be 1"
    ]


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ({"preStop": {"sleep": {"seconds": 5}}, "postStart": {"httpGet": {"port": 80}}}, []),
        (
            {"preStop": {"grpc": {"port": 80}}},
            ["lifecycle.preStop: Required value: must specify a handler type"],
        ),
        (
            {"preStop": {"sleep": {"seconds": -1}}},
            ["lifecycle.preStop.sleep.seconds: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"postStart": {"exec": {"command": ["a"]}, "sleep": {"seconds": 1}}},
            ["lifecycle.postStart.sleep: Forbidden: may not specify more than 1 handler type"],
        ),
        (
            {"preStop": "nginx -s quit"},
            ['lifecycle.preStop: Invalid value: "nginx -s quit": must be an object'],
        ),
    ],
)
def test_lifecycle_hooks(lifecycle: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(lifecycle=lifecycle) == expected


INIT_ONLY = "may not be set for init containers without restartPolicy=Always"


def test_plain_init_containers_may_not_have_probes_or_hooks_but_sidecars_may() -> None:
    probe = {"exec": {"command": ["true"]}}
    plain = container("init", livenessProbe=probe, lifecycle={"preStop": {"sleep": {"seconds": 1}}})
    sidecar = container("sidecar", restartPolicy="Always", startupProbe=probe)
    assert errors(pod(initContainers=[plain, sidecar])) == [
        f"spec.initContainers[0].lifecycle: Forbidden: {INIT_ONLY}",
        f"spec.initContainers[0].livenessProbe: Forbidden: {INIT_ONLY}",
        'spec.initContainers[1].restartPolicy: Unsupported value: "Always": pykubelet does not run sidecar '
        "(restartPolicy: Always) init containers yet; make it a regular container",
    ]


def test_container_restart_policy_is_for_sidecars_only() -> None:
    document = pod(container(restartPolicy="Always"), initContainers=[container("i", restartPolicy="Never")])
    assert errors(document) == [
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
        'spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]


# --- pod spec ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {
                "restartPolicy": "OnFailure",
                "terminationGracePeriodSeconds": 0,
                "hostPID": True,
                "nodeSelector": {"disk": "ssd"},
            },
            [],
        ),
        (
            {"restartPolicy": "Sometimes"},
            [f'spec.restartPolicy: Unsupported value: "Sometimes": {RESTART_POLICIES}'],
        ),
        (
            {"terminationGracePeriodSeconds": -1},
            ["spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"terminationGracePeriodSeconds": "30s"},
            ['spec.terminationGracePeriodSeconds: Invalid value: "30s": must be an integer'],
        ),
        (
            {"activeDeadlineSeconds": 0},
            ["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"],
        ),
        (
            {"dnsPolicy": "Host"},
            [
                'spec.dnsPolicy: Unsupported value: "Host": '
                'supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"'
            ],
        ),
        (
            {"dnsPolicy": "None"},
            ["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"],
        ),
        (
            {"dnsPolicy": "None", "dnsConfig": {"searches": ["a"]}},
            [
                "spec.dnsConfig.nameservers: Required value: "
                "must provide at least one DNS nameserver when `dnsPolicy` is None"
            ],
        ),
        (
            {
                "dnsPolicy": "None",
                "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
            },
            [],
        ),
        (
            {"dnsConfig": {"nameservers": ["dns.local"]}},
            [f'spec.dnsConfig.nameservers[0]: Invalid value: "dns.local": {NOT_AN_IP}'],
        ),
        ({"hostNetwork": "true"}, ['spec.hostNetwork: Invalid value: "true": must be a boolean']),
        ({"hostIPC": 1}, ["spec.hostIPC: Invalid value: 1: must be a boolean"]),
        ({"hostname": "Web_1"}, [f'spec.hostname: Invalid value: "Web_1": {DNS_LABEL}']),
        ({"nodeSelector": {"disk": 5}}, ["spec.nodeSelector[disk]: Invalid value: 5: must be a string"]),
        (
            {"nodeSelector": ["disk=ssd"]},
            ['spec.nodeSelector: Invalid value: ["disk=ssd"]: must be an object'],
        ),
        (
            {"securityContext": {"fsGroup": -1, "supplementalGroups": [1, "wheel"]}},
            [
                "spec.securityContext.fsGroup: Invalid value: -1: "
                "must be between 0 and 2147483647, inclusive",
                'spec.securityContext.supplementalGroups[1]: Invalid value: "wheel": must be an integer',
            ],
        ),
        ({"tolerations": "all"}, ['spec.tolerations: Invalid value: "all": must be a list']),
        ({"serviceAccountName": "default"}, []),
        ({"imagePullSecrets": []}, []),
        (
            {"imagePullSecrets": [{"name": "regcred"}]},
            [
                "spec.imagePullSecrets: Forbidden: "
                + api_reference("Secret", "log the node's Docker engine in to the registry instead")
            ],
        ),
    ],
)
def test_pod_spec_fields(spec: dict[str, Any], expected: list[str]) -> None:
    assert errors(pod(**spec)) == expected


def test_spec_must_be_an_object() -> None:
    document = pod()
    document["spec"] = ["nginx"]
    assert errors(document) == ['spec: Invalid value: ["nginx"]: must be an object']


# --- volumes -----------------------------------------------------------------------------------------------


def api_volume(kind: str) -> str:
    return api_reference(kind, "use hostPath or emptyDir")


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        ({"name": "v", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}, []),
        ({"name": "v", "hostPath": {"path": "/var/log", "type": "DirectoryOrCreate"}}, []),
        ({"name": "v"}, []),  # defaulted to an emptyDir
        ({"emptyDir": {}}, ["spec.volumes[0].name: Required value"]),
        ({"name": "Logs", "emptyDir": {}}, [f'spec.volumes[0].name: Invalid value: "Logs": {DNS_LABEL}']),
        (
            {"name": "v", "configMap": {"name": "cfg"}},
            [f"spec.volumes[0].configMap: Forbidden: {api_volume('ConfigMap')}"],
        ),
        (
            {"name": "v", "secret": {"secretName": "s"}},
            [f"spec.volumes[0].secret: Forbidden: {api_volume('Secret')}"],
        ),
        (
            {"name": "v", "persistentVolumeClaim": {"claimName": "c"}},
            [f"spec.volumes[0].persistentVolumeClaim: Forbidden: {api_volume('PersistentVolumeClaim')}"],
        ),
        (
            {"name": "v", "projected": {"sources": []}},
            [
                "spec.volumes[0].projected: Forbidden: "
                + api_volume("ConfigMap, Secret, ServiceAccount token")
            ],
        ),
        (
            {"name": "v", "ephemeral": {}},
            [f"spec.volumes[0].ephemeral: Forbidden: {api_volume('PersistentVolumeClaim')}"],
        ),
        (
            {"name": "v", "nfs": {"server": "nas", "path": "/x"}},
            [f'spec.volumes[0]: Unsupported value: "nfs": {LOCAL_ONLY}'],
        ),
        (
            {"name": "v", "downwardAPI": {"items": []}},
            [f'spec.volumes[0]: Unsupported value: "downwardAPI": {LOCAL_ONLY}'],
        ),
        (
            {"name": "v", "image": {"reference": "x"}},
            [f'spec.volumes[0]: Unsupported value: "image": {LOCAL_ONLY}'],
        ),
        (
            {"name": "v", "emptyDir": {}, "hostPath": {"path": "/x"}},
            ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            {"name": "v", "hostpath": {"path": "/x"}},
            [
                'spec.volumes[0].hostpath: Unsupported value: "hostpath": '
                f"unknown volume type (names are case-sensitive): {LOCAL_ONLY}"
            ],
        ),
        ({"name": "v", "hostPath": {}}, ["spec.volumes[0].hostPath.path: Required value"]),
        (
            {"name": "v", "hostPath": {"path": "var/log"}},
            ['spec.volumes[0].hostPath.path: Invalid value: "var/log": must be an absolute path'],
        ),
        (
            {"name": "v", "hostPath": {"path": "/var/../etc"}},
            ["spec.volumes[0].hostPath.path: Invalid value: \"/var/../etc\": must not contain '..'"],
        ),
        (
            {"name": "v", "hostPath": {"path": "/x", "type": "Dir"}},
            [
                'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", '
                '"BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", '
                '"Socket"'
            ],
        ),
        (
            {"name": "v", "hostPath": "/var/log"},
            ['spec.volumes[0].hostPath: Invalid value: "/var/log": must be an object'],
        ),
        (
            {"name": "v", "emptyDir": {"medium": "HugePages"}},
            [
                'spec.volumes[0].emptyDir.medium: Unsupported value: "HugePages": '
                'supported values: "", "Memory"'
            ],
        ),
        (
            {"name": "v", "emptyDir": {"sizeLimit": "-1Gi"}},
            ['spec.volumes[0].emptyDir.sizeLimit: Invalid value: "-1Gi": must be greater than or equal to 0'],
        ),
        (
            {"name": "v", "emptyDir": {"sizeLimit": "lots"}},
            [f'spec.volumes[0].emptyDir.sizeLimit: Invalid value: "lots": {FORMAT_WRONG}'],
        ),
        ("logs", ['spec.volumes[0]: Invalid value: "logs": must be an object']),
    ],
)
def test_volumes(volume: Any, expected: list[str]) -> None:
    assert errors(pod(volumes=[volume])) == expected


def test_volume_names_are_unique() -> None:
    assert errors(pod(volumes=[LOGS, {"name": "logs", "hostPath": {"path": "/var/log"}}])) == [
        'spec.volumes[1].name: Duplicate value: "logs"'
    ]


def test_volumes_must_be_a_list() -> None:
    assert errors(pod(volumes={"logs": {}})) == ['spec.volumes: Invalid value: {"logs": {}}: must be a list']


# --- wrong types anywhere are errors, not crashes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ports": "80"}, ['ports: Invalid value: "80": must be a list']),
        ({"ports": [80]}, ["ports[0]: Invalid value: 80: must be an object"]),
        ({"env": ["A=b"]}, ['env[0]: Invalid value: "A=b": must be an object']),
        (
            {"env": [{"name": "A", "valueFrom": "x"}]},
            ['env[0].valueFrom: Invalid value: "x": must be an object'],
        ),
        (
            {"env": [{"name": "A", "valueFrom": {"fieldRef": "metadata.name"}}]},
            ['env[0].valueFrom.fieldRef: Invalid value: "metadata.name": must be an object'],
        ),
        (
            {"volumeMounts": {"logs": "/logs"}},
            ['volumeMounts: Invalid value: {"logs": "/logs"}: must be a list'],
        ),
        (
            {"volumeMounts": [{"name": 1, "mountPath": 2}]},
            [
                "volumeMounts[0].name: Invalid value: 1: must be a string",
                "volumeMounts[0].mountPath: Invalid value: 2: must be a string",
            ],
        ),
        (
            {"securityContext": "privileged"},
            ['securityContext: Invalid value: "privileged": must be an object'],
        ),
        (
            {"livenessProbe": "curl localhost"},
            ['livenessProbe: Invalid value: "curl localhost": must be an object'],
        ),
        ({"lifecycle": ["preStop"]}, ['lifecycle: Invalid value: ["preStop"]: must be an object']),
        ({"name": ["web"]}, ['name: Invalid value: ["web"]: must be a string']),
        ({"image": {"name": "nginx"}}, ['image: Invalid value: {"name": "nginx"}: must be a string']),
        ({"imagePullPolicy": 1}, ["imagePullPolicy: Invalid value: 1: must be a string"]),
        ({"command": [["sh"]]}, ['command[0]: Invalid value: ["sh"]: must be a string']),
    ],
)
def test_wrong_types_are_reported_at_their_path(fields: dict[str, Any], expected: list[str]) -> None:
    assert container_errors(**fields) == expected
