"""Shared pieces of the manifest validation tests (``test_manifest_validate*.py``): kubectl's wording of
its errors, and pods defaulted and validated as the file source does it, whose errors are compared as text."""

from __future__ import annotations

from typing import Any

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
