"""500 random operations on the manifest directory, seeded; in the end the running pods match the files.

Operations: add, edit (in place, sometimes caught half-written; or atomically), identical rewrite (in place
or atomically), rename (to a new name, or to a dot-name, which hides it), delete, and editors' habits: a
vim-style ``.x.swp`` swap file around an in-place save, a temp file renamed over the manifest, an emacs
``.#x`` lock symlink, and a half-written save fixed a moment later. They come in bursts of a few to a few
dozen (faster than one inotify batch) with short pauses between, so the agent sees many intermediate
states. Every pod name is used by one file only, so the expected state is simply "one pod per valid
file": exactly its containers running, nothing else, /pods the same.
"""

from __future__ import annotations

import collections
import itertools
import os
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.fault.helpers import expected_pods, pod, wait_converged, write_raw
from tests.integration.conftest import Agent

pytestmark = pytest.mark.integration

OPERATIONS = 500
MAX_FILES = 8
CONVERGE_TIMEOUT = 150.0


def test_500_random_file_operations_end_with_pods_matching_the_files(
    agent_factory: Callable[..., Agent], seed: int
) -> None:
    rng = random.Random(seed)
    agent = agent_factory().start()
    d = agent.manifests
    numbers = itertools.count()
    docs: dict[str, dict[str, Any]] = {}  # file name -> the pod it holds
    done: collections.Counter[str] = collections.Counter()

    def new_file() -> str:
        return f"m{next(numbers)}.yaml"

    def atomic(name: str, text: str) -> None:
        tmp = d / f".{name}.tmp{rng.randrange(1000)}"
        tmp.write_text(text)
        os.replace(tmp, d / name)

    def add() -> None:
        name = new_file()
        n = name.split(".")[0]
        docs[name] = pod(f"churn-{n}", tag="v0", volume=rng.random() < 0.5)
        (atomic if rng.random() < 0.5 else lambda p, t: write_raw(d / p, t))(name, yaml.safe_dump(docs[name]))

    def edit() -> None:
        name = rng.choice(sorted(docs))
        env = docs[name]["spec"]["containers"][0]["env"]
        env[0]["value"] = f"v{rng.randrange(10**6)}"
        text = yaml.safe_dump(docs[name])
        if rng.random() < 0.5:
            atomic(name, text)
        else:
            write_raw(d / name, text)

    def rewrite_identical() -> None:
        name = rng.choice(sorted(docs))
        text = yaml.safe_dump(docs[name])
        (atomic if rng.random() < 0.5 else lambda p, t: write_raw(d / p, t))(name, text)

    def rename() -> None:
        old = rng.choice(sorted(docs))
        new = new_file()
        os.rename(d / old, d / new)
        docs[new] = docs.pop(old)

    def hide() -> None:  # rename to a dot-name: the kubelet ignores it, the pod goes
        old = rng.choice(sorted(docs))
        os.rename(d / old, d / f".{old}.hidden")
        del docs[old]

    def delete() -> None:
        name = rng.choice(sorted(docs))
        (d / name).unlink()
        del docs[name]

    def vim_save() -> None:  # .x.swp appears, the file is rewritten in place, the swap file goes
        name = rng.choice(sorted(docs))
        swap = d / f".{name}.swp"
        swap.write_bytes(os.urandom(64))
        docs[name]["spec"]["containers"][0]["env"][0]["value"] = f"vim{rng.randrange(10**6)}"
        write_raw(d / name, yaml.safe_dump(docs[name]))
        swap.unlink()

    def emacs_lock() -> None:  # .#x -> user@host.pid, a dangling symlink, then gone
        name = rng.choice(sorted(docs))
        lock = d / f".#{name}"
        os.symlink(f"root@host.{rng.randrange(99999)}:1", lock)
        rewrite_identical()
        lock.unlink()

    def half_written_then_fixed() -> None:
        name = rng.choice(sorted(docs))
        text = yaml.safe_dump(docs[name])
        write_raw(d / name, text[: rng.randrange(1, len(text))])
        time.sleep(rng.uniform(0, 0.3))
        write_raw(d / name, text)

    operations: list[tuple[Callable[[], None], int]] = [
        (add, 5), (edit, 3), (rewrite_identical, 3), (rename, 2), (hide, 1), (delete, 2), (vim_save, 2),
        (emacs_lock, 1), (half_written_then_fixed, 1),
    ]  # fmt: skip
    functions, weights = zip(*operations, strict=True)
    count = 0
    while count < OPERATIONS:
        for _ in range(min(rng.randint(1, 30), OPERATIONS - count)):
            if not docs:
                op = add
            elif len(docs) >= MAX_FILES:
                op = rng.choice([delete, hide, edit, rewrite_identical, rename])
            else:
                op = rng.choices(functions, weights)[0]
            op()
            done[op.__name__] += 1
            count += 1
        time.sleep(rng.choice([0, 0.05, 0.2, 0.5, 1.0]))

    assert set(os.listdir(d)) >= set(docs)
    wanted = expected_pods(agent)
    assert len(wanted) == len(docs), f"every file left holds a valid pod: {sorted(docs)} vs {wanted}"
    wait_converged(agent, CONVERGE_TIMEOUT, f"after {dict(done)} (PYKUBELET_FAULT_SEED={seed})")
    assert agent.alive()
