#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`.
#
# - If it already answers: exit 0 and touch nothing.
# - Otherwise install Debian's docker.io if dockerd or the docker CLI is missing (apt-get update only when needed),
#   start the engine (systemctl when systemd is PID 1, else a detached `dockerd` logging to $DOCKERD_LOG),
#   and wait up to $DOCKERD_WAIT_SECONDS for `docker info` to answer.
# - On failure: print the tail of the daemon log and exit 1.
#
# Idempotent: running it again against a working engine is a no-op.
# Environment: DOCKERD_LOG (default /var/log/dockerd.log), DOCKERD_WAIT_SECONDS (default 60).
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

say() { echo "ensure-docker: $*"; }
fail() {
    echo "ensure-docker: ERROR: $*" >&2
    exit 1
}

docker_answers() {
    command -v docker >/dev/null 2>&1 && timeout 15 docker info >/dev/null 2>&1
}

report_ok() {
    local version
    version=$(timeout 15 docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')
    say "Docker engine answers (server ${version})"
}

systemd_is_pid1() {
    [[ -d /run/systemd/system ]] && [[ "$(ps -p 1 -o comm= 2>/dev/null)" == systemd ]]
}

pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

install_docker_io() {
    [[ $EUID -eq 0 ]] || fail "docker is not installed and installing it needs root (apt-get install docker.io)"
    command -v apt-get >/dev/null 2>&1 || fail "no apt-get here: install a Docker engine by hand"
    export DEBIAN_FRONTEND=noninteractive
    # Update the package lists only when apt does not know docker.io (fresh machine) or the install fails
    # (stale lists pointing at superseded .debs).
    if ! apt-cache policy docker.io 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        say "apt-get update"
        apt-get update -qq
    fi
    say "installing docker.io with apt"
    if ! apt-get install -y -qq --no-install-recommends docker.io >/dev/null; then
        say "install failed; apt-get update and retry"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    fi
}

if docker_answers; then
    report_ok
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    if pkg_installed docker.io; then
        fail "docker.io is installed but dockerd or docker is not on PATH ($PATH)"
    fi
    install_docker_io
    command -v dockerd >/dev/null 2>&1 || fail "docker.io installed, but there is still no dockerd on PATH"
fi

started_pid=
if systemd_is_pid1; then
    say "starting docker with systemctl"
    systemctl start docker || true # a failure shows up below, with the journal
elif pgrep -x dockerd >/dev/null 2>&1; then
    say "a dockerd is already running (pid $(pgrep -x dockerd | tr '\n' ' ')); waiting for it to answer"
else
    [[ $EUID -eq 0 ]] || fail "no Docker engine answers and starting dockerd needs root"
    mkdir -p "$(dirname "$LOG")"
    say "starting dockerd in the background (log: $LOG)"
    # setsid + nohup + no stdin: the daemon outlives this script and the CI step that ran it.
    printf '\n==== %s ensure-docker.sh starting dockerd\n' "$(date -Is)" >>"$LOG"
    setsid nohup dockerd >>"$LOG" 2>&1 </dev/null &
    started_pid=$!
fi

wait_start=$SECONDS
deadline=$((SECONDS + WAIT_SECONDS))
while ((SECONDS < deadline)); do
    if docker_answers; then
        report_ok
        exit 0
    fi
    if [[ -n $started_pid ]] && ! kill -0 "$started_pid" 2>/dev/null; then
        echo "ensure-docker: dockerd (pid $started_pid) exited early" >&2
        break
    fi
    sleep 1
done

echo "ensure-docker: last lines of the daemon log:" >&2
if systemd_is_pid1; then
    journalctl -u docker --no-pager -n 40 >&2 || true
else
    tail -n 40 "$LOG" >&2 || true
fi
fail "no Docker engine answers 'docker info' (gave up after $((SECONDS - wait_start))s of ${WAIT_SECONDS}s); see above"
