#!/usr/bin/env python3
"""Regenerate agent/pykubelet/manifest/schema/pod-v1.json from the PyPI package ``kubernetes-validate``.

``kubernetes-validate`` ships the JSON schemas generated from each Kubernetes release's OpenAPI document
(22 MB for all releases). pykubelet needs one: the v1 Pod of one release, in the "strict" variant (every
object has ``additionalProperties: false``, which is how unknown fields are found). This script copies
``pod-v1.json`` and every definition it references, transitively, into one self-contained file, so the
agent depends on ``jsonschema`` only.

The copy is mechanical; the only changes are these, recorded in the file's ``x-pykubelet`` block:

- references point into the file itself (``#/$defs/...``) instead of ``/api/_definitions.json``;
- ``description`` texts and ``x-kubernetes-*`` annotations are dropped (they validate nothing);
- ``oneOf`` becomes ``anyOf``: IntOrString and Quantity are "string or null" *one of* "integer (number)
  or null", so an explicit ``null`` matches both branches and ``oneOf`` would refuse it, while the API
  decodes null as "not set".

Usage (any Python 3.10+; the package is not a dependency of pykubelet)::

    python3 -m venv /tmp/kv && /tmp/kv/bin/pip install kubernetes-validate==1.37.0
    /tmp/kv/bin/python scripts/extract-pod-schema.py [--kubernetes-version 1.37.0]

To move to another release, run it with that release and update ``SCHEMA_VERSION`` in
agent/pykubelet/manifest/schema.py (a unit test checks the two agree), then run the unit tests: the
Pod field table (manifest/fields.py) must classify every field of the new schema.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.resources
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "agent" / "pykubelet" / "manifest" / "schema" / "pod-v1.json"
DEFAULT_VERSION = "1.37.0"
DEFS_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")


def _local_ref(ref: str) -> str:
    for prefix in DEFS_PREFIXES:
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    raise SystemExit(f"unexpected $ref {ref!r}: this script only knows the _definitions.json layout")


def _clean(node: Any, *, in_properties: bool = False) -> Any:
    """Drop documentation, make references local, turn ``oneOf`` into ``anyOf`` (see the docstring)."""
    if isinstance(node, list):
        return [_clean(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # keys here are field names, not keywords: keep every one
        return {key: _clean(value) for key, value in node.items()}
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" or key.startswith("x-kubernetes-"):
            continue
        if key == "$ref":
            result[key] = "#/$defs/" + _local_ref(value)
        elif key == "oneOf":
            result["anyOf"] = _clean(value)
        else:
            result[key] = _clean(value, in_properties=key in ("properties", "$defs"))
    return result


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [_local_ref(node["$ref"])] if isinstance(node.get("$ref"), str) else []
        for key, value in node.items():
            if key != "$ref":
                found += _refs(value)
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def extract(version: str) -> dict[str, Any]:
    root = (
        importlib.resources.files("kubernetes_validate")
        / "kubernetes-json-schema"
        / f"v{version}-local-strict"
    )
    pod = json.loads((root / "pod-v1.json").read_text())
    definitions = json.loads((root / "_definitions.json").read_text())["$defs"]
    needed: dict[str, Any] = {}
    pending = _refs(pod)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed[name] = definitions[name]
            pending += _refs(definitions[name])
    schema = _clean(pod)
    schema["$defs"] = _clean({name: needed[name] for name in sorted(needed)}, in_properties=True)
    schema["x-pykubelet"] = {
        "kubernetesVersion": version,
        "source": (
            f"kubernetes-validate {importlib.metadata.version('kubernetes-validate')}: "
            f"kubernetes-json-schema/v{version}-local-strict/pod-v1.json and the "
            f"{len(needed)} definitions of _definitions.json it references"
        ),
        "changes": [
            "references made local (#/$defs/...)",
            "description texts and x-kubernetes-* annotations dropped",
            "oneOf made anyOf (an explicit null matches both branches of IntOrString and Quantity)",
        ],
        "regenerate": "scripts/extract-pod-schema.py",
    }
    return schema


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-version", default=DEFAULT_VERSION, metavar="X.Y.Z")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    try:
        schema = extract(args.kubernetes_version)
    except ModuleNotFoundError:
        print("kubernetes-validate is not installed: see this script's docstring", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(
            f"kubernetes-validate has no schema for Kubernetes {args.kubernetes_version}: {exc}",
            file=sys.stderr,
        )
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.output} (Kubernetes {args.kubernetes_version}, {len(schema['$defs'])} definitions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
