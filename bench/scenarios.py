"""The five measurements of issue 5, each pykubelet figure beside its floor measured in the same run.

Start and removal of one pod (1-2) and the burst (3) run on either runtime (bench/runtimes.py: Docker,
bench/cri.py: containerd through the CRI), each beside that runtime's floor; the steady state (4) and
the restart adoption (5) are measured on Docker. Repetitions alternate pykubelet, the floor and the
peer, so a change in the machine's background load (other engineers' tests share it) lands on all of
them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import yaml

from bench.common import (
    BUSYBOX,
    EXITS_ON_TERM,
    IGNORES_TERM,
    NGINX,
    NODE_LABEL,
    AgentProcess,
    EventRecorder,
    busybox_pod,
    container_count,
    poll,
    summary,
    walkthrough_pod,
)
from bench.load import http_load, http_rate
from bench.podman import Podman
from bench.runtimes import POOL, Side, clear_floor_dirs

START_TIMEOUT = 120.0
REMOVE_TIMEOUT = 120.0
BURST_TIMEOUT = 600.0


class Context:
    def __init__(
        self,
        api: docker.APIClient,
        events: EventRecorder,
        work: Path,
        podman: Podman | None,
        log: Callable[[str], None],
    ) -> None:
        self.api = api
        self.events = events
        self.work = work
        self.podman = podman
        self.log = log


# -- 1 and 2: start latency and removal of one pod ----------------------------------------------------


def single_pod(
    ctx: Context, side: Side, agent: AgentProcess, floor_node: str, reps: int, use_podman: bool
) -> dict[str, Any]:
    kinds: dict[str, Callable[[str], dict[str, Any]]] = {
        "walkthrough": walkthrough_pod,
        "busybox": busybox_pod,
    }
    results: dict[str, Any] = {}
    for kind, make in kinds.items():
        samples: dict[str, list[float]] = {k: [] for k in (
            "start", "react", "remove", "floor_start", "floor_start_parallel", "floor_remove",
            "podman_start", "podman_remove",
        )}  # fmt: skip
        podman_error = ""
        ops0 = runtime_ops(agent)
        for rep in range(reps):
            pod = make(f"bench-{kind}-{rep}")
            name = pod["metadata"]["name"]
            expected = container_count(pod)

            # pykubelet: file written -> all containers started; file deleted -> all containers gone
            full = f"{name}-{agent.node}"
            t0 = time.time()
            agent.write(f"{name}.yaml", pod)
            started = side.wait_started(agent.node, {full: expected}, t0, START_TIMEOUT)
            samples["start"].append(started.last - t0)
            samples["react"].append(started.first - t0)
            for phase, value in side.timeline(agent.node, full, t0).items():
                samples.setdefault(f"phase_{phase}", []).append(value)
            time.sleep(0.5)  # let the agent finish its bookkeeping (status, log links) before the delete
            t1 = time.time()
            agent.remove(f"{name}.yaml")
            gone = side.wait_removed(agent.node, started.ids, t1, REMOVE_TIMEOUT)
            samples["remove"].append(gone - t1)

            # the floor: the same containers created and started one after another, then force-removed
            for key, parallel in (("floor_start", False), ("floor_start_parallel", True)):
                t0 = time.time()
                created = side.floor_create(floor_node, pod, parallel_apps=parallel)
                started = side.wait_started(floor_node, {name: expected}, t0, START_TIMEOUT)
                samples[key].append(started.last - t0)
                if not parallel:
                    for phase, value in side.timeline(floor_node, name, t0).items():
                        samples.setdefault(f"floor_phase_{phase}", []).append(value)
                time.sleep(0.2)
                t1 = time.time()
                side.floor_remove(created)
                gone = side.wait_removed(floor_node, set(created), t1, REMOVE_TIMEOUT)
                if not parallel:
                    samples["floor_remove"].append(gone - t1)
                clear_floor_dirs(ctx.work / "floor", floor_node, name)

            # the peer
            if use_podman and ctx.podman is not None and not podman_error:
                path = ctx.work / "podman" / f"{name}.yaml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(yaml.safe_dump(pod))
                (result,) = ctx.podman.play_down([path], timeout=180) or [{"error": "no result"}]
                if result.get("error") or result.get("running", 0) < expected - 1:
                    podman_error = result.get("error") or f"only {result.get('running')} containers ran"
                else:
                    samples["podman_start"].append(result["play"])
                    samples["podman_remove"].append(result["down"])
            ctx.log(
                f"  {side.name} {kind} rep {rep + 1}/{reps}: start {samples['start'][-1]:.3f}s "
                f"(floor {samples['floor_start'][-1]:.3f}s), remove {samples['remove'][-1]:.3f}s "
                f"(floor {samples['floor_remove'][-1]:.3f}s)"
            )
        results[kind] = {k: summary(v) for k, v in samples.items()}
        results[kind]["runtime_calls_per_pod"] = {
            op: {k: round(v / reps, 3) for k, v in d.items()}
            for op, d in ops_delta(ops0, runtime_ops(agent)).items()
        }
        results[kind]["containers"] = container_count(make("x"))
        if podman_error:
            results[kind]["podman_error"] = podman_error
    return results


# -- 3: a burst of pods ---------------------------------------------------------------------------------


def burst(
    ctx: Context,
    side: Side,
    agent: AgentProcess,
    floor_node: str,
    pods: int,
    reps: int,
    command: list[str] = EXITS_ON_TERM,
) -> dict[str, Any]:
    """Drop ``pods`` manifests at once, wait for every container to run, delete them all; then the floors.

    Two floors for the removal: ``floor_remove`` force-removes every container (the issues' floor), and
    ``floor_remove_graceful`` keeps the kubelet's contract: each pod's apps stopped with the 2 s minimum
    grace period (SIGTERM, then the wait for their exit), then the pod removed on the pool. The second
    shows what the contract costs with no agent around it.
    """
    keys = ["start", "remove", "floor_start", "floor_remove", "floor_remove_graceful"]
    samples: dict[str, list[float]] = {k: [] for k in keys}
    runtime_calls: list[dict[str, Any]] = []
    tag = "i" if command == IGNORES_TERM else ""
    for rep in range(reps):
        manifests = [busybox_pod(f"bench-burst{tag}{rep}-{i:03d}", command) for i in range(pods)]
        names = {f"{p['metadata']['name']}-{agent.node}": 2 for p in manifests}
        ops0 = runtime_ops(agent)
        t0 = time.time()
        for pod in manifests:
            agent.write(f"{pod['metadata']['name']}.yaml", pod)
        started = side.wait_started(agent.node, names, t0, BURST_TIMEOUT)
        samples["start"].append(started.last - t0)
        ops1 = runtime_ops(agent)
        time.sleep(2.0)
        ops2 = runtime_ops(agent)
        t1 = time.time()
        for pod in manifests:
            agent.remove(f"{pod['metadata']['name']}.yaml")
        gone = side.wait_removed(agent.node, started.ids, t1, BURST_TIMEOUT)
        samples["remove"].append(gone - t1)
        runtime_calls.append({"start": ops_delta(ops0, ops1), "remove": ops_delta(ops2, runtime_ops(agent))})

        for key in ("floor_remove", "floor_remove_graceful"):
            floor_names = {p["metadata"]["name"]: 2 for p in manifests}
            t0 = time.time()
            with ThreadPoolExecutor(POOL) as pool:
                created = list(pool.map(lambda p: side.floor_create(floor_node, p), manifests))
            started = side.wait_started(floor_node, floor_names, t0, BURST_TIMEOUT)
            if key == "floor_remove":
                samples["floor_start"].append(started.last - t0)
            time.sleep(2.0)
            t1 = time.time()
            side.floor_remove_all(created, graceful=key == "floor_remove_graceful")
            gone = side.wait_removed(floor_node, started.ids, t1, BURST_TIMEOUT)
            samples[key].append(gone - t1)
        ctx.log(
            f"  {side.name} burst rep {rep + 1}/{reps}: start {samples['start'][-1]:.2f}s "
            f"(floor {samples['floor_start'][-1]:.2f}s), remove {samples['remove'][-1]:.2f}s "
            f"(floor {samples['floor_remove'][-1]:.2f}s, "
            f"with the 2 s grace {samples['floor_remove_graceful'][-1]:.2f}s)"
        )
    out: dict[str, Any] = {k: summary(v) for k, v in samples.items()}
    out["pods"] = pods
    out["containers"] = pods * 2
    out["command"] = command
    out["runtime_calls"] = runtime_calls
    return out


# -- 4: steady state, 5: restart adoption ---------------------------------------------------------------


def start_pods(ctx: Context, agent: AgentProcess, pods: int) -> list[str]:
    manifests = [busybox_pod(f"bench-steady-{i:03d}") for i in range(pods)]
    names = {f"{p['metadata']['name']}-{agent.node}": 2 for p in manifests}
    t0 = time.time()
    for pod in manifests:
        agent.write(f"{pod['metadata']['name']}.yaml", pod)
    ctx.events.wait_started(agent.node, names, t0, BURST_TIMEOUT)
    poll("/pods to show every pod running", lambda: pods_complete(agent, pods), 120, interval=0.2)
    return [f"{p['metadata']['name']}.yaml" for p in manifests]


def pods_complete(agent: AgentProcess, expected: int) -> bool:
    items = agent.get_json("/pods")["items"]
    if len(items) != expected:
        return False
    for item in items:
        statuses = (item.get("status") or {}).get("containerStatuses") or []
        if not statuses or not all("running" in (s.get("state") or {}) for s in statuses):
            return False
    return True


def runtime_ops(agent: AgentProcess) -> dict[str, list[float]]:
    """The agent's own runtime call counters from /metrics: operation -> [calls, seconds]."""
    ops: dict[str, list[float]] = {}
    with contextlib.suppress(Exception):
        for line in agent.get_text("/metrics", timeout=10).splitlines():
            for prefix, index in (
                ("kubelet_runtime_operations_total{", 0),
                ("kubelet_runtime_operations_duration_seconds_sum{", 1),
            ):
                if line.startswith(prefix):
                    op = line.split('operation_type="', 1)[1].split('"', 1)[0]
                    ops.setdefault(op, [0.0, 0.0])[index] = float(line.rsplit(" ", 1)[1])
    return ops


def ops_delta(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Runtime calls made between two snapshots; seconds include waiting for one of the agent's threads."""
    out = {}
    for op, (calls, seconds) in after.items():
        calls0, seconds0 = before.get(op, [0.0, 0.0])
        if calls - calls0:
            out[op] = {"calls": calls - calls0, "seconds": round(seconds - seconds0, 3)}
    return out


def cpu_seconds(agent: AgentProcess) -> float:
    times = agent.process().cpu_times()
    return float(times.user + times.system)


def steady(
    ctx: Context,
    agent: AgentProcess,
    pods: int,
    idle_seconds: float,
    settle: float,
    load_seconds: float,
    load_requests: int,
    concurrency: int,
) -> dict[str, Any]:
    ctx.log(f"  steady: {pods} pods running; settling {settle:g}s, then {idle_seconds:g}s idle")
    time.sleep(settle)
    proc = agent.process()
    rss_samples = []
    ops0 = runtime_ops(agent)
    cpu0, wall0 = cpu_seconds(agent), time.monotonic()
    deadline = wall0 + idle_seconds
    while time.monotonic() < deadline:
        rss_samples.append(proc.memory_info().rss)
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    cpu1, wall1 = cpu_seconds(agent), time.monotonic()
    idle_calls = ops_delta(ops0, runtime_ops(agent))
    result: dict[str, Any] = {
        "idle_docker_calls": idle_calls,
        "pods": pods,
        "idle_seconds": round(wall1 - wall0, 3),
        "idle_cpu_percent": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "rss_bytes": proc.memory_info().rss,
        "rss_max_bytes": max(rss_samples) if rss_samples else proc.memory_info().rss,
        "pods_json_bytes": len(agent.get_text("/pods")),
        "summary_json_bytes": len(agent.get_text("/stats/summary")),
    }
    for path, rate in (("/pods", 1000), ("/stats/summary", 200)):
        cpu0 = cpu_seconds(agent)
        load = asyncio.run(http_load(agent.url(path), load_seconds, load_requests, concurrency))
        load["agent_cpu_percent"] = 100 * (cpu_seconds(agent) - cpu0) / load["seconds"]
        ctx.log(
            f"  {path}, closed loop: {load['requests_per_second']:.0f} req/s, p99 "
            f"{1000 * load['latency']['p99']:.1f} ms ({load['requests']} requests, {load['errors']} errors, "
            f"agent CPU {load['agent_cpu_percent']:.0f}%)"
        )
        cpu0 = cpu_seconds(agent)
        paced = asyncio.run(http_rate(agent.url(path), rate, load_seconds, concurrency * 2))
        paced["agent_cpu_percent"] = 100 * (cpu_seconds(agent) - cpu0) / paced["seconds"]
        load["paced"] = paced
        result[path] = load
        ctx.log(
            f"  {path}, {rate} req/s offered: {paced['requests_per_second']:.0f} req/s done, p99 "
            f"{1000 * paced['latency']['p99']:.1f} ms ({paced['errors']} errors, "
            f"agent CPU {paced['agent_cpu_percent']:.0f}%)"
        )
    result["rss_after_load_bytes"] = proc.memory_info().rss
    return result


def adoption(ctx: Context, agent: AgentProcess, pods: int, reps: int, observe: float) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"healthz": [], "pods_complete": [], "restarted": []}
    for rep in range(reps):
        before = {c["Id"] for c in ctx.api.containers(filters={"label": [f"{NODE_LABEL}={agent.node}"]})}
        agent.kill(signal.SIGKILL)
        t_wall = time.time()
        t0 = time.monotonic()
        agent.spawn()
        poll("/healthz ok after the restart", lambda: agent.get_text("/healthz", timeout=2) == "ok", 60, 0.01)
        t_health = time.monotonic()
        poll("a complete /pods after the restart", lambda: pods_complete(agent, pods), 120, 0.02)
        t_pods = time.monotonic()
        time.sleep(observe)  # late restarts count too
        started = {e.cid for e in ctx.events.select(agent.node, "start", since=t_wall)}
        after = {c["Id"] for c in ctx.api.containers(filters={"label": [f"{NODE_LABEL}={agent.node}"]})}
        restarted = len(started | (after - before))
        lost = len(before - after)
        samples["healthz"].append(t_health - t0)
        samples["pods_complete"].append(t_pods - t0)
        samples["restarted"].append(float(restarted))
        ctx.log(
            f"  adoption rep {rep + 1}/{reps}: /healthz ok {t_health - t0:.2f}s, /pods complete "
            f"{t_pods - t0:.2f}s, {restarted} containers (re)started, {lost} gone"
        )
    out: dict[str, Any] = {k: summary(v) for k, v in samples.items()}
    out["pods"] = pods
    out["containers"] = pods * 2
    return out


def stop_all(ctx: Context, agent: AgentProcess, files: list[str], timeout: float = BURST_TIMEOUT) -> None:
    """Delete the files and wait (bounded) until the agent has removed every container."""
    for name in files:
        with contextlib.suppress(FileNotFoundError):
            agent.remove(name)
    poll("the agent to remove every pod",
         lambda: not ctx.api.containers(all=True, filters={"label": [f"{NODE_LABEL}={agent.node}"]}),
         timeout, interval=0.5)  # fmt: skip


def work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="pykubelet-bench-"))


__all__ = ["BUSYBOX", "NGINX", "Context", "adoption", "burst", "single_pod", "steady", "stop_all", "work_dir"]
