"""The corpus of real-world manifests (tests/corpus) through one real agent, all at once.

Every manifest goes into one manifest directory. Those expected to run must reach their phase (Running,
or Succeeded for run-once pods), their readiness probes must pass and nothing may restart; the refused
ones must be reported in /manifests with their reason; the one node admission rejects must be Failed
with the kubelet's reason. Warnings must reach /manifests and the log, once.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import Agent, wait_for

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
TYPO = "typo-image-pull-policy.yaml"


def pod_name(manifest: str) -> str:
    return yaml.safe_load((CORPUS / manifest).read_text())["metadata"]["name"]


def by_outcome(outcome: str) -> list[str]:
    return sorted(name for name, spec in EXPECTED.items() if spec["outcome"] == outcome)


def has_readiness_probe(manifest: str) -> bool:
    containers = yaml.safe_load((CORPUS / manifest).read_text())["spec"]["containers"]
    return any("readinessProbe" in c for c in containers)


@pytest.fixture(autouse=True)
def _host_paths() -> Iterator[None]:
    """The corpus's hostPath volumes (DirectoryOrCreate / FileOrCreate) live here; leave nothing behind."""
    yield
    shutil.rmtree("/tmp/pykubelet-corpus", ignore_errors=True)


def test_the_whole_corpus_in_one_agent(agent_factory) -> None:  # type: ignore[no-untyped-def]
    agent: Agent = agent_factory().start()
    for manifest in EXPECTED:
        agent.write(manifest, (CORPUS / manifest).read_text())
    runs, refused, rejected = by_outcome("runs"), by_outcome("refused"), by_outcome("rejected")
    blocked = by_outcome("blocked")

    def statuses() -> dict[str, dict[str, Any]]:
        return {p["metadata"]["name"].removesuffix(f"-{agent.node}"): p["status"] for p in agent.pods()}

    def pending() -> list[str]:
        current = statuses()
        waiting = []
        for manifest in runs:
            status = current.get(pod_name(manifest)) or {}
            if status.get("phase") != EXPECTED[manifest].get("phase", "Running"):
                waiting.append(f"{manifest}: {status.get('phase')}")
            elif has_readiness_probe(manifest) and not all(
                c.get("ready") for c in status.get("containerStatuses", [])
            ):
                waiting.append(f"{manifest}: not ready")
        for manifest in rejected:
            status = current.get(pod_name(manifest)) or {}
            if (status.get("phase"), status.get("reason")) != ("Failed", EXPECTED[manifest]["reason"]):
                waiting.append(f"{manifest}: {status.get('phase')} {status.get('reason')}")
        for manifest in blocked:
            waits = [
                (c.get("state") or {}).get("waiting") or {}
                for c in (current.get(pod_name(manifest)) or {}).get("containerStatuses", [])
            ]
            if not any(
                w.get("reason") == EXPECTED[manifest]["reason"]
                and EXPECTED[manifest]["message"] in w.get("message", "")
                for w in waits
            ):
                waiting.append(f"{manifest}: {waits}")
        return waiting

    started = time.monotonic()
    left: list[str] = []

    def all_there() -> bool:
        left[:] = pending()
        return not left

    try:
        wait_for("every runnable corpus pod in its phase", all_there, timeout=150, interval=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still waiting for: {left}") from None
    elapsed = time.monotonic() - started

    report = {Path(item["file"]).name: item for item in agent.get("/manifests")["items"]}
    for manifest in refused:
        assert EXPECTED[manifest]["reason"] in report[manifest].get("error", ""), report.get(manifest)
        assert pod_name(manifest) not in statuses()
    for manifest in runs + rejected + blocked:
        item = report[manifest]
        assert "error" not in item, item
        warned = sorted(w["field"] for w in item["warnings"])
        assert warned == sorted(EXPECTED[manifest].get("warnings") or []), item

    # Nothing restarted: the probes written in these manifests pass under the prober.
    time.sleep(max(0.0, 20 - elapsed))
    current = statuses()
    restarted = {
        manifest: [
            c["name"] for c in current[pod_name(manifest)].get("containerStatuses", []) if c["restartCount"]
        ]
        for manifest in runs
    }
    assert not {m: names for m, names in restarted.items() if names}, restarted

    # The warnings were logged once, not on every relist (--file-check-frequency is 2s here).
    typo_lines = [
        line
        for line in agent.log().splitlines()
        if 'unknown field \\"spec.containers[0].imagePullPolice\\"' in line and TYPO in line
    ]
    assert len(typo_lines) == 1, typo_lines
    ignored = [line for line in agent.log().splitlines() if "Manifest fields accepted and ignored" in line]
    assert any("etcd.yaml" in line and "spec.priority, spec.priorityClassName" in line for line in ignored)
    assert len([line for line in ignored if "etcd.yaml" in line]) == 1


def test_strict_manifests_refuses_the_typo(agent_factory) -> None:  # type: ignore[no-untyped-def]
    agent: Agent = agent_factory(["--strict-manifests"]).start()
    agent.write(TYPO, (CORPUS / TYPO).read_text())

    def error() -> str | None:
        for item in agent.get("/manifests")["items"]:
            if item["file"].endswith(TYPO) and "error" in item:
                return item["error"]
        return None

    reason = wait_for("the typo refused in /manifests", error, timeout=30)
    assert reason == 'unknown field "metadata.lables"; unknown field "spec.containers[0].imagePullPolice"'
    assert agent.pod(pod_name(TYPO)) is None
