"""``python -m labctl``: the Vagrant side of ``./lab``.

./lab up [--provider virtualbox|libvirt|docker] [--runtime docker|containerd]
                                                   create and provision the lab machine(s)
./lab status                                       machines, providers, and what their port 10255 answers
./lab ssh [MACHINE] [-c COMMAND]                   a shell (or one command) on a machine
./lab walkthrough [MACHINE...] [-- ANSIBLE ARGS]   check the README's walkthrough on the running machines
./lab down                                         destroy the machines
./lab provider                                     which provider `up` would use, and why
./lab setup                                        (with the rest of the set-up) collections and vagrant
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Sequence

from labctl import collections
from labctl.machines import PROVIDERS, Lab, LabError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="./lab",
        description="Drive the pykubelet lab's Vagrant machines (the Vagrantfile; ansible/site.yml "
        "provisions them).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", help="create and provision the lab machine(s)")
    up.add_argument(
        "--provider",
        choices=PROVIDERS,
        help="default: VirtualBox or libvirt when present, else the docker provider (also LAB_PROVIDER)",
    )
    up.add_argument(
        "--runtime",
        choices=("docker", "containerd"),
        help="the runtime pykubelet drives on the machines (pykubelet_container_runtime; also LAB_RUNTIME); "
        "default docker. It applies when a machine is provisioned: a new one, or `vagrant provision`",
    )
    sub.add_parser("status", help="the machines, their provider, and what their read-only port answers")
    ssh = sub.add_parser("ssh", help="a shell, or one command, on a machine (default: the first)")
    ssh.add_argument("machine", nargs="?", help="lab-1, lab-2, ... (LAB_NODES)")
    ssh.add_argument("-c", "--command", dest="remote_command", help="run this command instead of a shell")
    walk = sub.add_parser("walkthrough", help="check the README's walkthrough on the running machines")
    walk.add_argument(
        "machines", nargs="*", help="default: every running machine; after --: ansible-playbook args"
    )
    sub.add_parser("down", help="destroy the machines")
    sub.add_parser("provider", help="which provider `up` would use, and why")
    sub.add_parser("vars", help="print the README's table of role variables (from the argument specs)")
    sub.add_parser("setup", help="install the collections Molecule needs, and vagrant (as root, apt)")
    return p


def main(
    argv: Sequence[str] | None = None,
    lab: Lab | None = None,
    execvp: Callable[[str, list[str]], object] = os.execvp,
) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:  # ./lab walkthrough [MACHINE...] -- ANSIBLE-PLAYBOOK ARGS
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1 :]
    args = parser().parse_args(argv)
    try:
        lab = lab or Lab()
        if args.command == "setup":
            collections.ensure()
            lab.ensure_vagrant(install=True)
        elif args.command == "up":
            if args.runtime:  # the Vagrantfile passes LAB_RUNTIME to site.yml as pykubelet_container_runtime
                lab.env["LAB_RUNTIME"] = args.runtime
            lab.up(args.provider)
            for line in lab.status_lines():
                print(line, file=lab.out)
            print(
                "lab: next: ./lab ssh (then `pykubelet get pods`), ./lab walkthrough, ./lab status, "
                "./lab down",
                file=lab.out,
            )
        elif args.command == "status":
            for line in lab.status_lines():
                print(line, file=lab.out)
        elif args.command == "provider":
            choice = lab.choose_provider()
            print(f"{choice.name}: {choice.reason}", file=lab.out)
            if not lab.created():
                print(lab.describe_plan(choice), file=lab.out)
        elif args.command == "ssh":
            command = lab.ssh_command(args.machine, args.remote_command)
            os.chdir(lab.root)
            execvp(command[0], command)
        elif args.command == "walkthrough":
            return lab.walkthrough(args.machines, passthrough)
        elif args.command == "down":
            lab.down()
        elif args.command == "vars":
            from labctl import argspecs  # needs the venv's PyYAML; the rest runs on the system python3

            print(argspecs.table(lab.root), file=lab.out)
    except (LabError, collections.CollectionsError) as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lab: interrupted", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError as exc:  # python-vagrant's (conf, plugin list)
        command = exc.cmd if isinstance(exc.cmd, str) else " ".join(map(str, exc.cmd))
        print(f"lab: error: {command} failed (exit {exc.returncode}); its output is above", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or a command the user's machine lacks or forbids
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"lab: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    return 0
