"""``python -m bench``: measure pykubelet on Docker and on containerd, each against its floor (the Docker
SDK; direct CRI calls) and podman, print a table, write JSON.

    .venv/bin/python -m bench            # the full run, both runtimes
    .venv/bin/python -m bench --quick    # a smoke run: 3 repetitions, 10 pods, 10 s idle
    .venv/bin/python -m bench --only start,burst --no-podman --runtimes containerd

Needs root, a Docker engine and the lab images (scripts/build-images.sh); for containerd, the lab's
(scripts/ensure-containerd.sh; when it does not answer, the run says so and measures Docker only).
Everything it creates carries ``io.pykubelet.node=bench-<random>`` (``bench-floor-<random>``,
``bench-ctrd-<random>``, ``bench-ctrd-floor-<random>``) and is removed at the end, also on Ctrl-C;
traffic goes only to loopback and to the containers it created. Nothing here asserts: the targets of
issues 5 and 13 are printed beside each figure, and docs/performance.md records the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker

from bench import scenarios
from bench.common import (
    IGNORES_TERM,
    IMAGES,
    NGINX,
    REPO,
    AgentProcess,
    EventRecorder,
    Machine,
    api_client,
    cleanup_dir,
    machine,
    node_name,
)
from bench.cri import ENDPOINT as CRI_ENDPOINT
from bench.cri import CriSide
from bench.podman import Podman
from bench.runtimes import DockerSide, Side
from bench.table import render, table_rows

SCENARIOS = ("start", "burst", "steady", "adoption")
RUNTIMES = ("docker", "containerd")


@dataclasses.dataclass
class Plan:
    reps: int
    pods: int
    burst_reps: int
    idle_seconds: float
    settle: float
    load_seconds: float
    load_requests: int
    concurrency: int
    adoption_reps: int


FULL = Plan(
    reps=20,
    pods=50,
    burst_reps=3,
    idle_seconds=60,
    settle=15,
    load_seconds=15,
    load_requests=30000,
    concurrency=8,
    adoption_reps=3,
)
QUICK = Plan(
    reps=3,
    pods=10,
    burst_reps=1,
    idle_seconds=10,
    settle=5,
    load_seconds=3,
    load_requests=3000,
    concurrency=8,
    adoption_reps=1,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: fewer repetitions, 10 pods, 10 s idle")
    p.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (start includes removal)",
    )
    p.add_argument(
        "--reps", type=int, help="repetitions of the single-pod start/removal (default 20, quick 3)"
    )
    p.add_argument(
        "--pods", type=int, help="pods in the burst, steady state and adoption (default 50, quick 10)"
    )
    p.add_argument(
        "--burst-reps", type=int, help="repetitions of the burst, each beside its floors (default 3, quick 1)"
    )
    p.add_argument("--no-podman", action="store_true", help="skip the podman peer")
    p.add_argument(
        "--runtimes",
        default=",".join(RUNTIMES),
        help="comma-separated runtimes to run pykubelet on: docker, containerd (default both; the steady "
        "state and the adoption are measured on Docker)",
    )
    p.add_argument(
        "--containerd-endpoint",
        default=CRI_ENDPOINT,
        help=f"the containerd to measure (default the lab's, {CRI_ENDPOINT})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results",
        help="directory for the JSON results (default bench/results)",
    )
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the agent with py-spy (pip install py-spy) during each scenario into DIR/<scenario>.txt "
        "(collapsed stacks for speedscope or flamegraph.pl); py-spy costs the agent CPU, so profile in a "
        "run of its own",
    )
    p.add_argument(
        "--agent-arg",
        action="append",
        default=[],
        help="an extra flag for pykubelet (repeatable), e.g. --agent-arg=-v --agent-arg=4",
    )
    args = p.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        p.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    unknown = set(args.runtimes.split(",")) - set(RUNTIMES)
    if unknown:
        p.error(f"unknown runtime(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = dataclasses.replace(QUICK if args.quick else FULL)
    if args.reps:
        plan.reps = args.reps
    if args.pods:
        plan.pods = args.pods
    if args.burst_reps:
        plan.burst_reps = args.burst_reps
    only = set(args.only.split(","))

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    api = api_client()
    try:
        api.ping()
    except Exception as exc:
        print(
            f"bench: no Docker engine answers ({exc}); start one with scripts/ensure-docker.sh",
            file=sys.stderr,
        )
        return 2
    for image in IMAGES:
        try:
            api.inspect_image(image)
        except docker.errors.ImageNotFound:
            print(f"bench: image {image} is missing: run scripts/build-images.sh", file=sys.stderr)
            return 2

    info = machine(api)
    work = scenarios.work_dir()
    events = EventRecorder()
    try:
        ctx, sides, cri_side = prepare(args, only, api, info, work, events, log)
    except BaseException:
        events.close()
        cleanup_dir(work)
        raise
    results: dict[str, Any] = {}
    started = time.time()
    log(
        f"machine: {info.cores} cores, {info.memory_bytes / 2**30:.1f} GiB, kernel {info.kernel}, "
        f"Docker {info.docker_server}, load average {info.loadavg_start}, "
        f"{info.other_containers_running} other containers running"
    )
    log(
        f"work dir {work}; "
        + "; ".join(f"{p.side.name}: node {p.agent.node}, floor node {p.floor_node}" for p in sides)
    )
    try:
        for p in sides:
            p.agent.start()
            log(f"pykubelet on {p.side.name}: pid {p.agent.pid}, port {p.agent.port}")
        measure(ctx, sides, only, plan, args.profile, results)
    except BaseException as exc:
        log(f"bench failed: {exc!r}")
        for p in sides:
            tail = p.agent.log_tail()
            if tail:
                print(f"--- agent log on {p.side.name} (tail) ---\n{tail}", file=sys.stderr)
        results["error"] = repr(exc)
        if not isinstance(exc, Exception):
            raise
    finally:
        for p in sides:
            p.agent.kill()  # first, or it would make again what is removed below
        events.close()
        removed = 0
        for p in sides:
            for n in (p.agent.node, p.floor_node):
                with contextlib.suppress(Exception):
                    removed += p.side.remove_node(n)
        if removed:
            log(f"clean-up removed {removed} container(s)/sandbox(es)")
        if cri_side is not None:
            cri_side.close()
        cleanup_dir(work)

    info.notes.append(f"load average at the end: {os.getloadavg()}")
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_seconds": round(time.time() - started, 1),
        "mode": "quick" if args.quick else "full",
        "plan": dataclasses.asdict(plan),
        "machine": dataclasses.asdict(info),
        "git": _git_revision(),
        "runtimes": [p.side.name for p in sides],
        "results": results,
    }
    report["table"] = table_rows(
        results, podman_note=next((n for n in info.notes if n.startswith("podman peer not measured")), "")
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started))
    path = args.out / f"bench-{stamp}-{report['mode']}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    with contextlib.suppress(OSError):
        latest = args.out / "latest.json"
        latest.unlink(missing_ok=True)
        latest.symlink_to(path.name)
    print()
    print(render(report))
    print(f"\nJSON: {path}")
    return 1 if "error" in results else 0


def prepare(
    args: argparse.Namespace,
    only: set[str],
    api: docker.APIClient,
    info: Machine,
    work: Path,
    events: EventRecorder,
    log: Callable[[str], None],
) -> tuple[scenarios.Context, list[Pass], CriSide | None]:
    """The podman peer, and one :class:`Pass` per runtime that can be measured (notes in ``info`` say
    why one is not)."""
    runtimes = set(args.runtimes.split(","))
    podman: Podman | None = None
    if "start" in only and "docker" in runtimes and not args.no_podman:
        log("preparing the podman peer")
        podman = Podman(work / "podman-setup", ("busybox:1.35", NGINX))
        if podman.prepare():
            info.podman = podman.version
        else:
            info.notes.append(f"podman peer not measured: {podman.unusable}")
            log(f"podman peer not measured: {podman.unusable}")
            podman = None
    elif args.no_podman or "docker" not in runtimes:
        info.notes.append(
            "podman peer not measured: " + ("--no-podman" if args.no_podman else "no Docker pass")
        )
    ctx = scenarios.Context(api, events, work, podman, log)
    sides: list[Pass] = []
    if "docker" in runtimes:
        docker_side = DockerSide(api, events, work / "floor")
        sides.append(Pass(docker_side, AgentProcess(work / "agent", node_name("bench"), args.agent_arg)))
    cri_side: CriSide | None = None
    if "containerd" in runtimes:
        cri_side = CriSide(args.containerd_endpoint, work / "floor", work / "floor-logs")
        why = cri_side.check()
        if why:
            message = f"containerd NOT measured, {why}; measuring Docker only"
            info.notes.append(message)
            log(message)
            cri_side.close()
            cri_side = None
        else:
            info.notes.append(f"containerd: {cri_side.version} on {args.containerd_endpoint}")
            cri_args = ["--container-runtime-endpoint", args.containerd_endpoint, *args.agent_arg]
            agent = AgentProcess(work / "agent-containerd", node_name("bench-ctrd"), cri_args)
            sides.append(Pass(cri_side, agent))
    return ctx, sides, cri_side


@dataclasses.dataclass
class Pass:
    """One runtime's pass: how to see it and make its floor, the agent pointed at it, the floor's node."""

    side: Side
    agent: AgentProcess
    floor_node: str = ""

    def __post_init__(self) -> None:
        self.floor_node = self.floor_node or node_name(f"{self.agent.node.rsplit('-', 1)[0]}-floor")


def measure(
    ctx: scenarios.Context,
    sides: list[Pass],
    only: set[str],
    plan: Plan,
    profile: Path | None,
    results: dict[str, Any],
) -> None:
    """The scenarios, each on every runtime in turn (results of containerd under ``results["containerd"]``);
    the steady state and the adoption on Docker only."""

    def slot(p: Pass) -> dict[str, Any]:
        return results if p.side.name == "docker" else results.setdefault(p.side.name, {})

    def tag(p: Pass, name: str) -> str:
        return name if p.side.name == "docker" else f"{name}-{p.side.name}"

    if "start" in only:
        for p in sides:
            ctx.log(f"1-2. {p.side.name}: start latency and removal, {plan.reps} repetitions per pod")
            with profiled(profile, tag(p, "start"), p.agent.pid):
                slot(p)["single"] = scenarios.single_pod(
                    ctx,
                    p.side,
                    p.agent,
                    p.floor_node,
                    plan.reps,
                    p.side.name == "docker" and bool(ctx.podman),
                )
    if "burst" in only:
        for p in sides:
            ctx.log(f"3. {p.side.name}: burst of {plan.pods} pods, {plan.burst_reps} repetition(s)")
            with profiled(profile, tag(p, "burst"), p.agent.pid):
                slot(p)["burst"] = scenarios.burst(
                    ctx, p.side, p.agent, p.floor_node, plan.pods, plan.burst_reps
                )
                if p.side.name == "docker":
                    ctx.log(
                        f"3b. docker: the same burst, containers that ignore SIGTERM "
                        f"({plan.burst_reps} repetition(s))"
                    )
                    results["burst_ignoring_term"] = scenarios.burst(
                        ctx, p.side, p.agent, p.floor_node, plan.pods, plan.burst_reps, IGNORES_TERM
                    )
    docker_pass = next((p for p in sides if p.side.name == "docker"), None)
    if not only & {"steady", "adoption"}:
        return
    if docker_pass is None:
        ctx.log("steady state and adoption are measured on Docker only: skipped")
        return
    agent = docker_pass.agent
    ctx.log(f"starting {plan.pods} pods for the steady state and the adoption")
    files = scenarios.start_pods(ctx, agent, plan.pods)
    if "steady" in only:
        ctx.log(f"4. steady state with {plan.pods} pods")
        with profiled(profile, "steady", agent.pid):
            results["steady"] = scenarios.steady(
                ctx, agent, plan.pods, plan.idle_seconds, plan.settle, plan.load_seconds,
                plan.load_requests, plan.concurrency,
            )  # fmt: skip
    if "adoption" in only:
        ctx.log(f"5. restart adoption with {plan.pods} pods, {plan.adoption_reps} repetition(s)")
        results["adoption"] = scenarios.adoption(ctx, agent, plan.pods, plan.adoption_reps, observe=3.0)
    ctx.log("removing the pods")
    scenarios.stop_all(ctx, agent, files)


@contextlib.contextmanager
def profiled(directory: Path | None, name: str, pid: int) -> Iterator[None]:
    """py-spy record of the agent while the block runs: threads not idle (waits in native code count as
    busy), or, for the steady state, only the thread holding the GIL (where the CPU goes)."""
    if directory is None:
        yield
        return
    import shutil
    import signal
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    proc = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw", "--nonblocking",
         "--output", str(directory / f"{name}.txt"),
         *(["--gil"] if name == "steady" else [])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _git_revision() -> str:
    import subprocess

    result = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
