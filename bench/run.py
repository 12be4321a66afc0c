"""``python -m bench``: measure pykubelet against the Docker SDK floor and podman, print a table, write JSON.

    .venv/bin/python -m bench            # the full run (~11 min on 2 cores)
    .venv/bin/python -m bench --quick    # a smoke run: 3 repetitions, 10 pods, 10 s idle (~3 min)
    .venv/bin/python -m bench --only start,burst --no-podman

Needs root, a Docker engine and the lab images (scripts/build-images.sh). Everything it creates carries
``io.pykubelet.node=bench-<random>`` (or ``bench-floor-<random>``) and is removed at the end, also on
Ctrl-C; traffic goes only to loopback and to the containers it created. Nothing here asserts: the
targets of issue 5 are printed beside each figure, and docs/performance.md records a full run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Iterator
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
    api_client,
    cleanup_dir,
    machine,
    node_name,
    remove_node_containers,
)
from bench.podman import Podman

SCENARIOS = ("start", "burst", "steady", "adoption")
MB = 1024 * 1024


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
    p.add_argument("--no-podman", action="store_true", help="skip the podman peer")
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
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = dataclasses.replace(QUICK if args.quick else FULL)
    if args.reps:
        plan.reps = args.reps
    if args.pods:
        plan.pods = args.pods
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
    node, floor_node = node_name("bench"), node_name("bench-floor")
    events = EventRecorder()
    podman: Podman | None = None
    if "start" in only and not args.no_podman:
        log("preparing the podman peer")
        podman = Podman(work / "podman-setup", ("busybox:1.35", NGINX))
        if podman.prepare():
            info.podman = podman.version
        else:
            info.notes.append(f"podman peer not measured: {podman.unusable}")
            log(f"podman peer not measured: {podman.unusable}")
            podman = None
    elif args.no_podman:
        info.notes.append("podman peer not measured: --no-podman")
    ctx = scenarios.Context(api, events, work, podman, log)
    agent = AgentProcess(work / "agent", node, args.agent_arg)
    results: dict[str, Any] = {}
    started = time.time()
    log(
        f"machine: {info.cores} cores, {info.memory_bytes / 2**30:.1f} GiB, kernel {info.kernel}, "
        f"Docker {info.docker_server}, load average {info.loadavg_start}, "
        f"{info.other_containers_running} other containers running"
    )
    log(f"node {node}, floor node {floor_node}, work dir {work}")
    files: list[str] = []
    try:
        agent.start()
        log(f"pykubelet pid {agent.pid} on port {agent.port}")
        if "start" in only:
            log(f"1-2. start latency and removal, {plan.reps} repetitions per pod")
            with profiled(args.profile, "start", agent.pid):
                results["single"] = scenarios.single_pod(
                    ctx, agent, floor_node, plan.reps, podman is not None
                )
        if "burst" in only:
            log(f"3. burst of {plan.pods} pods, {plan.burst_reps} repetition(s)")
            with profiled(args.profile, "burst", agent.pid):
                results["burst"] = scenarios.burst(ctx, agent, floor_node, plan.pods, plan.burst_reps)
                log(f"3b. the same burst, containers that ignore SIGTERM ({plan.burst_reps} repetition(s))")
                results["burst_ignoring_term"] = scenarios.burst(
                    ctx, agent, floor_node, plan.pods, plan.burst_reps, IGNORES_TERM
                )
        if only & {"steady", "adoption"}:
            log(f"starting {plan.pods} pods for the steady state and the adoption")
            files = scenarios.start_pods(ctx, agent, plan.pods)
        if "steady" in only:
            log(f"4. steady state with {plan.pods} pods")
            with profiled(args.profile, "steady", agent.pid):
                results["steady"] = scenarios.steady(
                    ctx, agent, plan.pods, plan.idle_seconds, plan.settle, plan.load_seconds,
                    plan.load_requests, plan.concurrency,
                )  # fmt: skip
        if "adoption" in only:
            log(f"5. restart adoption with {plan.pods} pods, {plan.adoption_reps} repetition(s)")
            results["adoption"] = scenarios.adoption(ctx, agent, plan.pods, plan.adoption_reps, observe=3.0)
        if files:
            log("removing the pods")
            scenarios.stop_all(ctx, agent, files)
    except BaseException as exc:
        log(f"bench failed: {exc!r}")
        tail = agent.log_tail()
        if tail:
            print(f"--- agent log (tail) ---\n{tail}", file=sys.stderr)
        results["error"] = repr(exc)
        if not isinstance(exc, Exception):
            raise
    finally:
        agent.kill()
        events.close()
        removed = sum(remove_node_containers(api, n) for n in (node, floor_node))
        if removed:
            log(f"clean-up force-removed {removed} container(s)")
        cleanup_dir(work)

    info.notes.append(f"load average at the end: {os.getloadavg()}")
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_seconds": round(time.time() - started, 1),
        "mode": "quick" if args.quick else "full",
        "plan": dataclasses.asdict(plan),
        "machine": dataclasses.asdict(info),
        "git": _git_revision(),
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


# -- the table ------------------------------------------------------------------------------------------


def _fmt_s(stat: dict[str, Any] | None, unit: str = "s", scale: float = 1.0, digits: int = 3) -> str:
    if not stat or stat.get("median") is None:
        return "n/a"
    return f"{stat['median'] * scale:.{digits}f} {unit} ({stat['p99'] * scale:.{digits}f})"


def _ratio(a: dict[str, Any] | None, b: dict[str, Any] | None) -> float | None:
    if not a or not b or not a.get("median") or not b.get("median"):
        return None
    return float(a["median"]) / float(b["median"])


def table_rows(results: dict[str, Any], podman_note: str = "") -> list[dict[str, Any]]:
    """One row per figure: pykubelet (median, p99), its floor, the ratio, the peer, the target."""
    rows: list[dict[str, Any]] = []

    def row(
        name: str,
        value: str,
        floor: str = "",
        ratio: float | None = None,
        peer: str = "",
        target: str = "",
        met: bool | None = None,
    ) -> None:
        rows.append(
            {
                "measurement": name,
                "pykubelet": value,
                "floor": floor,
                "ratio": None if ratio is None else round(ratio, 2),
                "podman": peer,
                "target": target,
                "met": met,
            }
        )

    peer_missing = "not usable" if podman_note else "n/a"
    for kind, label, term in (
        ("walkthrough", "walkthrough pod (infra + 2)", "its shell ignores SIGTERM: 2 s minimum grace"),
        ("busybox", "busybox pod (infra + 1)", "exits on SIGTERM"),
    ):
        r = (results.get("single") or {}).get(kind)
        if not r:
            continue
        peer_start = _fmt_s(r["podman_start"]) if r["podman_start"]["n"] else peer_missing
        peer_remove = _fmt_s(r["podman_remove"]) if r["podman_remove"]["n"] else peer_missing
        ratio = _ratio(r["start"], r["floor_start"])
        target = "<= 1.0x sequential SDK floor" if kind == "walkthrough" else ""
        row(
            f"start, {label}",
            _fmt_s(r["start"]),
            _fmt_s(r["floor_start"]),
            ratio,
            peer_start,
            target,
            (ratio <= 1.0) if (ratio is not None and kind == "walkthrough") else None,
        )
        ratio_par = _ratio(r["start"], r["floor_start_parallel"])
        row(
            f"start, {label}, vs floor with apps started concurrently",
            _fmt_s(r["start"]),
            _fmt_s(r["floor_start_parallel"]),
            ratio_par,
        )
        react = r["react"]
        row(
            f"reaction: manifest written -> first container created ({kind})",
            _fmt_s(react, "ms", 1000, 1),
            "",
            None,
            "",
            "well under 50 ms",
            (react["median"] < 0.05) if react.get("median") is not None else None,
        )
        row(
            f"removal, {label}, grace 0 ({term})",
            _fmt_s(r["remove"]),
            _fmt_s(r["floor_remove"]),
            _ratio(r["remove"], r["floor_remove"]),
            peer_remove,
        )
    b = results.get("burst")
    if b:
        for key, what in (("start", "all running"), ("remove", "all removed")):
            ratio = _ratio(b[key], b[f"floor_{key}"])
            row(
                f"burst of {b['pods']} pods ({b['containers']} containers): {what}",
                _fmt_s(b[key], digits=2),
                _fmt_s(b[f"floor_{key}"], digits=2),
                ratio,
                "",
                "<= 1.1x thread-pool floor",
                None if ratio is None else ratio <= 1.1,
            )
    b = results.get("burst_ignoring_term")
    if b:
        label = f"burst of {b['pods']} pods, containers ignore SIGTERM: all removed"
        row(
            f"{label} (2 s minimum grace)",
            _fmt_s(b["remove"], digits=2),
            _fmt_s(b["floor_remove"], digits=2),
            _ratio(b["remove"], b["floor_remove"]),
        )
        row(
            f"{label}, vs floor that stops with the 2 s grace, then removes",
            _fmt_s(b["remove"], digits=2),
            _fmt_s(b["floor_remove_graceful"], digits=2),
            _ratio(b["remove"], b["floor_remove_graceful"]),
        )
    s = results.get("steady")
    if s:
        row(
            f"idle with {s['pods']} pods: CPU (% of one core, {s['idle_seconds']:.0f} s)",
            f"{s['idle_cpu_percent']:.2f} %",
            "",
            None,
            "",
            "< 1 %",
            s["idle_cpu_percent"] < 1.0,
        )
        rss = max(s["rss_max_bytes"], s["rss_bytes"]) / MB
        row(f"idle with {s['pods']} pods: RSS", f"{rss:.1f} MB", "", None, "", "< 80 MB", rss < 80)
        for path, rate in (("/pods", 1000), ("/stats/summary", 200)):
            load = s[path]
            lat = load["latency"]
            row(
                f"{path} with {s['pods']} pods: throughput, {load['concurrency']} keep-alive clients "
                "(closed loop)",
                f"{load['requests_per_second']:.0f} req/s, p50 {lat['median'] * 1000:.1f} ms, "
                f"p99 {lat['p99'] * 1000:.1f} ms",
                "", None, "", f">= {rate} req/s", load["requests_per_second"] >= rate,
            )  # fmt: skip
            paced = load.get("paced")
            if paced:
                p99_ms = (paced["latency"]["p99"] or math.nan) * 1000
                done = paced["requests_per_second"] >= 0.98 * rate and not paced["errors"]
                met = done and (path != "/pods" or p99_ms < 20)
                row(
                    f"{path} with {s['pods']} pods: latency at {rate} req/s offered (open loop)",
                    f"{paced['requests_per_second']:.0f} req/s served, "
                    f"p50 {paced['latency']['median'] * 1000:.1f} ms, p99 {p99_ms:.1f} ms",
                    "", None, "", "p99 < 20 ms" if path == "/pods" else f"keeps up with {rate} req/s", met,
                )  # fmt: skip
    a = results.get("adoption")
    if a:
        row(f"restart adoption ({a['pods']} pods, SIGKILL): /healthz ok", _fmt_s(a["healthz"], digits=2))
        row(
            f"restart adoption ({a['pods']} pods, SIGKILL): /pods complete",
            _fmt_s(a["pods_complete"], digits=2),
            "",
            None,
            "",
            "< 2 s",
            a["pods_complete"]["p99"] < 2.0,
        )
        restarted = int(a["restarted"]["max"])
        row(
            f"restart adoption ({a['pods']} pods): containers restarted (max over runs)",
            str(restarted),
            "",
            None,
            "",
            "0",
            restarted == 0,
        )
    return rows


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"pykubelet benchmark ({report['mode']}, {report['when']}, {report['duration_seconds']:.0f} s)",
        f"machine: {m['cores']} cores ({m['cpu_model']}), {m['memory_bytes'] / 2**30:.1f} GiB, "
        f"kernel {m['kernel']}, "
        f"{m['os']}, Docker {m['docker_server']}, podman {m['podman'] or '-'}, Python {m['python']}",
        f"load average at start {tuple(round(x, 2) for x in m['loadavg_start'])}; "
        f"{m['other_containers_running']} other containers running",
        *[f"note: {n}" for n in m["notes"]],
        "figures: median (p99) of repeated runs; ratio = pykubelet median / floor median",
        "",
        "| measurement | pykubelet | floor (Docker SDK) | ratio | podman kube play/down | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["table"]:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        lines.append(
            f"| {r['measurement']} | {r['pykubelet']} | {r['floor']} | {ratio} | {r['podman']} | "
            f"{r['target']} | {met} |"
        )
    if "error" in report["results"]:
        lines.append(f"\nbench stopped early: {report['results']['error']}")
    return "\n".join(lines)


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
