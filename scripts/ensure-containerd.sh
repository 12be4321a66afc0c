#!/usr/bin/env bash
# Make sure pykubelet's own containerd answers CRI calls on its socket, beside Docker's containerd.
#
# - Installs Debian's containerd and containernetworking-plugins if missing (apt-get update only when needed).
# - Writes a dedicated config: its own root, state and socket (so it never touches the containerd that
#   dockerd runs), the CRI plugin enabled with sandbox_image = the lab's local pause image,
#   restrict_oom_score_adj = true (without CAP_SYS_RESOURCE runc fails with "can't get final child's
#   PID" otherwise), the cgroup driver matching the host (systemd only when PID 1 is systemd), and a CNI
#   conflist (bridge + host-local + portmap) in its own conf dir.
# - Starts it (systemd-run when systemd is PID 1, else a detached process logging to $LOG) unless it already
#   answers, and waits until the CRI plugin is up.
# - Imports the locally built pod images from Docker into containerd's k8s.io namespace when missing
#   (nothing can be pulled here): `docker save ... | ctr -a SOCK -n k8s.io images import -`.
# - On failure: prints the tail of the daemon log and exits 1.
#
# Idempotent: against a running, configured containerd with the images it changes nothing.
# Environment (defaults in brackets):
#   PYKUBELET_CONTAINERD_SOCKET [/run/pykubelet-containerd/containerd.sock]
#   PYKUBELET_CONTAINERD_ROOT   [/var/lib/pykubelet-containerd]
#   PYKUBELET_CONTAINERD_STATE  [/run/pykubelet-containerd]
#   PYKUBELET_CONTAINERD_CONFIG [/etc/pykubelet-containerd]   (config.toml and net.d/ in it)
#   PYKUBELET_CONTAINERD_LOG    [/var/log/pykubelet-containerd.log]
#   PYKUBELET_CONTAINERD_IMAGES ["busybox:1.35 nginx:1.22 registry.k8s.io/pause:3.10"]
#   PYKUBELET_CNI_SUBNET [10.97.0.0/16]  PYKUBELET_CNI_BRIDGE [pykcni0]  CONTAINERD_WAIT_SECONDS [60]
set -euo pipefail

SOCKET=${PYKUBELET_CONTAINERD_SOCKET:-/run/pykubelet-containerd/containerd.sock}
ROOT=${PYKUBELET_CONTAINERD_ROOT:-/var/lib/pykubelet-containerd}
STATE=${PYKUBELET_CONTAINERD_STATE:-/run/pykubelet-containerd}
CONFIG_DIR=${PYKUBELET_CONTAINERD_CONFIG:-/etc/pykubelet-containerd}
LOG=${PYKUBELET_CONTAINERD_LOG:-/var/log/pykubelet-containerd.log}
IMAGES=${PYKUBELET_CONTAINERD_IMAGES:-busybox:1.35 nginx:1.22 registry.k8s.io/pause:3.10}
SUBNET=${PYKUBELET_CNI_SUBNET:-10.97.0.0/16}
BRIDGE=${PYKUBELET_CNI_BRIDGE:-pykcni0}
WAIT_SECONDS=${CONTAINERD_WAIT_SECONDS:-60}
PAUSE_IMAGE=registry.k8s.io/pause:3.10
CNI_BIN_DIR=/usr/lib/cni
CONFIG=$CONFIG_DIR/config.toml
CNI_CONF_DIR=$CONFIG_DIR/net.d

say() { echo "ensure-containerd: $*"; }
fail() {
    echo "ensure-containerd: ERROR: $*" >&2
    exit 1
}

systemd_is_pid1() {
    [[ -d /run/systemd/system ]] && [[ "$(ps -p 1 -o comm= 2>/dev/null)" == systemd ]]
}

pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

ctr_() { timeout 30 ctr -a "$SOCKET" "$@"; }

# The CRI plugin answers only once it has loaded; `ctr version` alone would answer before that.
cri_answers() {
    [[ -S $SOCKET ]] && ctr_ version >/dev/null 2>&1 &&
        ctr_ plugins ls 2>/dev/null | grep -Eq '^io\.containerd\.grpc\.v1[[:space:]]+cri[[:space:]].*[[:space:]]ok[[:space:]]*$'
}

install_packages() {
    local missing=()
    command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 || missing+=(containerd)
    for plugin in bridge host-local portmap loopback; do
        if [[ ! -x $CNI_BIN_DIR/$plugin ]]; then
            missing+=(containernetworking-plugins)
            break
        fi
    done
    ((${#missing[@]})) || return 0
    [[ $EUID -eq 0 ]] || fail "${missing[*]} missing and installing needs root (apt-get install ${missing[*]})"
    command -v apt-get >/dev/null 2>&1 || fail "no apt-get here: install ${missing[*]} by hand"
    export DEBIAN_FRONTEND=noninteractive
    local p
    for p in "${missing[@]}"; do
        if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            say "apt-get update"
            apt-get update -qq
            break
        fi
    done
    say "installing ${missing[*]} with apt"
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        say "install failed; apt-get update and retry"
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    for p in "${missing[@]}"; do pkg_installed "$p" || fail "$p did not install"; done
}

# Write $1 from stdin only when its content changes; prints "changed" when it did.
write_if_changed() {
    local target=$1 tmp
    tmp=$(mktemp "$target.XXXXXX")
    cat >"$tmp"
    if [[ -f $target ]] && cmp -s "$tmp" "$target"; then
        rm -f "$tmp"
    else
        chmod 0644 "$tmp"
        mv -f "$tmp" "$target"
        echo changed
    fi
}

write_config() {
    local systemd_cgroup=false changed=""
    systemd_is_pid1 && systemd_cgroup=true
    mkdir -p "$CONFIG_DIR" "$CNI_CONF_DIR"
    changed+=$(write_if_changed "$CONFIG" <<EOF
# Written by scripts/ensure-containerd.sh: pykubelet's containerd, beside (not instead of) Docker's.
version = 2
root = "$ROOT"
state = "$STATE"

[grpc]
  address = "$SOCKET"

[ttrpc]
  address = "$SOCKET.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Hosts and containers without CAP_SYS_RESOURCE cannot lower oom_score_adj: clamp it instead of failing.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = $systemd_cgroup
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
    max_conf_num = 1
EOF
)
    changed+=$(write_if_changed "$CNI_CONF_DIR/10-pykubelet.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "pykubelet",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
)
    [[ -n $changed ]] && echo changed || true
}

daemon_pids() {
    # Our containerd only: the one started with our config file.
    pgrep -f -x "containerd --config $CONFIG" || true
}

start_daemon() {
    mkdir -p "$(dirname "$LOG")" "$(dirname "$SOCKET")" "$ROOT" "$STATE"
    printf '\n==== %s ensure-containerd.sh starting containerd --config %s\n' "$(date -Is)" "$CONFIG" >>"$LOG"
    if systemd_is_pid1; then
        say "starting containerd with systemd-run (unit pykubelet-containerd, log: $LOG)"
        systemd-run --unit pykubelet-containerd --collect -p Delegate=yes -p KillMode=process \
            /bin/sh -c "exec containerd --config '$CONFIG' >>'$LOG' 2>&1" >/dev/null
    else
        say "starting containerd in the background (log: $LOG)"
        # setsid + nohup + no stdin: the daemon outlives this script and the CI step that ran it.
        setsid nohup containerd --config "$CONFIG" >>"$LOG" 2>&1 </dev/null &
        started_pid=$!
    fi
}

stop_daemon() {
    local pid
    for pid in $(daemon_pids); do
        say "stopping containerd (pid $pid) to apply the new config"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
    done
}

import_images() {
    local have missing=() image full
    have=$(ctr_ -n k8s.io images ls -q 2>/dev/null || true)
    for image in $IMAGES; do
        full=$image
        [[ $full == */* ]] || full=library/$full
        [[ ${full%%/*} == *.* ]] || full=docker.io/$full
        grep -qxF "$full" <<<"$have" || missing+=("$image")
    done
    if ((${#missing[@]} == 0)); then
        say "images present in k8s.io: $IMAGES"
        return 0
    fi
    command -v docker >/dev/null 2>&1 || fail "images missing from containerd (${missing[*]}) and no docker CLI to export them"
    for image in "${missing[@]}"; do
        docker image inspect "$image" >/dev/null 2>&1 ||
            fail "image $image is not in Docker either: build the pod images with scripts/build-images.sh"
    done
    say "importing ${missing[*]} from Docker into containerd's k8s.io namespace"
    docker save "${missing[@]}" | timeout 300 ctr -a "$SOCKET" -n k8s.io images import - >/dev/null ||
        fail "ctr images import failed for ${missing[*]}"
}

install_packages
config_changed=$(write_config)
started_pid=

if cri_answers && [[ -z $config_changed ]]; then
    say "containerd answers on $SOCKET"
else
    if [[ -n $config_changed ]] && [[ -n $(daemon_pids) ]]; then
        stop_daemon
    fi
    if cri_answers; then
        say "containerd answers on $SOCKET (started outside this script; config $CONFIG not applied)"
    else
        [[ $EUID -eq 0 ]] || fail "containerd does not answer on $SOCKET and starting it needs root"
        if [[ -n $(daemon_pids) ]]; then
            say "a containerd with $CONFIG is running (pid $(daemon_pids | tr '\n' ' ')); waiting for it"
        else
            start_daemon
        fi
        wait_start=$SECONDS
        deadline=$((SECONDS + WAIT_SECONDS))
        until cri_answers; do
            if ((SECONDS >= deadline)); then
                echo "ensure-containerd: last lines of the daemon log:" >&2
                tail -n 40 "$LOG" >&2 || true
                fail "containerd does not answer CRI calls on $SOCKET (gave up after $((SECONDS - wait_start))s); see above"
            fi
            if [[ -n $started_pid ]] && ! kill -0 "$started_pid" 2>/dev/null; then
                echo "ensure-containerd: containerd (pid $started_pid) exited early; last lines of $LOG:" >&2
                tail -n 40 "$LOG" >&2 || true
                fail "containerd exited; see above"
            fi
            sleep 0.5
        done
        say "containerd answers on $SOCKET ($(ctr_ version 2>/dev/null | awk '/Server:/{s=1} s&&/Version:/{print $2; exit}'))"
    fi
fi

import_images
say "ready: --container-runtime-endpoint unix://$SOCKET"
