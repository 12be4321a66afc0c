"""The corpus of real-world manifests (tests/corpus): each one's outcome and warnings, as load_pod sees them.

tests/corpus/expected.yaml says, for every manifest, whether it runs (or is rejected later by node
admission, which load_pod does not do) or is refused with which reason, and which fields are warned
about. The same corpus runs through a real agent in tests/integration/test_corpus_runs.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pykubelet.manifest import ManifestError, StaticPod, load_pod
from pykubelet.manifest.errors import UNKNOWN_FIELD

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
MANIFESTS = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")
NODE = "corpus-node"


def load(name: str, *, strict: bool = False) -> StaticPod:
    path = CORPUS / name
    return load_pod(path.read_bytes(), str(path), NODE, strict=strict)


def test_every_manifest_has_an_expected_outcome_and_there_are_enough() -> None:
    assert sorted(EXPECTED) == MANIFESTS
    assert len(MANIFESTS) >= 30
    outcomes = {spec["outcome"] for spec in EXPECTED.values()}
    assert outcomes == {"runs", "refused", "rejected", "blocked"}
    runnable = [name for name, spec in EXPECTED.items() if spec["outcome"] == "runs"]
    assert len(runnable) >= 20


def test_the_corpus_has_both_styles() -> None:
    """kubeadm's control plane (host network, hostPath, localhost probes, priority, seccomp) and the docs."""
    control_plane = [
        "kube-apiserver.yaml",
        "etcd.yaml",
        "kube-controller-manager.yaml",
        "kube-scheduler.yaml",
    ]
    for name in control_plane:
        spec = load(name).spec
        assert spec["hostNetwork"] is True
        assert spec["priorityClassName"] == "system-node-critical"
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert any("hostPath" in v for v in spec["volumes"])
        container = spec["containers"][0]
        assert container["livenessProbe"]["httpGet"]["host"] == "127.0.0.1"
        assert container["resources"]["requests"]["cpu"]


@pytest.mark.parametrize("name", MANIFESTS)
def test_outcome_and_warnings(name: str) -> None:
    expected = EXPECTED[name]
    warnings = sorted(expected.get("warnings") or [])
    if expected["outcome"] == "refused":
        with pytest.raises(ManifestError) as caught:
            load(name)
        assert expected["reason"] in caught.value.reason
        assert sorted(w.path for w in caught.value.warnings) == warnings
        return
    pod = load(name)
    assert sorted(w.path for w in pod.warnings) == warnings, [str(w) for w in pod.warnings]


@pytest.mark.parametrize("name", MANIFESTS)
def test_strict_mode_refuses_exactly_the_manifests_with_unknown_fields(name: str) -> None:
    expected = EXPECTED[name]
    try:
        lenient = load(name)
    except ManifestError:
        lenient = None
    unknown = [w for w in lenient.warnings if w.kind == UNKNOWN_FIELD] if lenient is not None else []
    if expected["outcome"] == "refused":
        with pytest.raises(ManifestError):
            load(name, strict=True)
    elif unknown:
        with pytest.raises(ManifestError) as caught:
            load(name, strict=True)
        assert caught.value.reason == "; ".join(f'unknown field "{w.path}"' for w in unknown)
    else:
        assert load(name, strict=True).uid == lenient.uid  # type: ignore[union-attr]


def test_the_typo_reads_like_kubectls_strict_field_validation() -> None:
    warnings = [str(w) for w in load("typo-image-pull-policy.yaml").warnings]
    assert warnings == [
        'unknown field "metadata.lables"',
        'unknown field "spec.containers[0].imagePullPolice"',
    ]
    with pytest.raises(ManifestError) as caught:
        load("typo-image-pull-policy.yaml", strict=True)
    assert 'unknown field "spec.containers[0].imagePullPolice"' in str(caught.value)
