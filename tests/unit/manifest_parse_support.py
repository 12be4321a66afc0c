"""Shared pieces of the manifest decoding tests (``test_manifest_parse*.py``): the walkthrough pod as bytes,
Pod documents of an exact number of values, and the reason a :class:`ManifestError` gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pykubelet.manifest import ManifestError
from pykubelet.manifest.parse import load_document

SOURCE = "/etc/kubernetes/manifests/web.yaml"
MINIMAL = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"

WALKTHROUGH = b"""\
# nginx writes its access log to a shared emptyDir; busybox truncates it every minute.
apiVersion: v1
kind: Pod
metadata:
  name: nginx-truncator
  labels:
    app: nginx
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports:
    - name: http
      containerPort: 80
      hostPort: 8080
    resources:
      limits: {cpu: 500m, memory: 128Mi}
    volumeMounts:
    - name: logs
      mountPath: /var/log/nginx
    readinessProbe:
      httpGet: {port: http}
  - name: truncator
    image: busybox
    command: ["sh", "-c", "while true; do : > /logs/access.log; sleep 60; done"]
    volumeMounts:
    - name: logs
      mountPath: /logs
  volumes:
  - name: logs
    emptyDir: {}
"""


def reason(data: bytes, load: Any = load_document, source: str = SOURCE) -> str:
    with pytest.raises(ManifestError) as caught:
        load(data, source)
    assert caught.value.source == source
    return caught.value.reason


URL = "http://127.0.0.1:8080/pods.yaml"


# Imported under their private names, which are the parametrized ids of
# test_the_value_limit_is_exact_in_json_and_yaml (test_manifest_parse_hostile.py).
def _n_values_json(n: int) -> bytes:
    """A Pod-shaped JSON document of exactly ``n`` values (root, apiVersion, kind, the list, its items)."""
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "x": [0] * (n - 4)}).encode()


def _n_values_yaml(n: int) -> bytes:
    return b"apiVersion: v1\nkind: Pod\nx:\n" + b"- 0\n" * (n - 4)
