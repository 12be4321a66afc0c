#!/bin/bash
# Run by bench/podman.py inside `unshare -m --propagation private`: for each Pod YAML given, time
# `podman kube play`, count the pod's running containers, time `podman kube down`. One line per file:
#   RESULT <pod> <play ms> <down ms> <running containers> [error]
set -u

# Mount the cgroup-v1 controllers whose mountpoint directories exist under /sys/fs/cgroup but are empty
# (left there by systemd running in a --cgroupns=host container): podman stats them and fails with EROFS
# otherwise. This namespace is private, so the host's mounts are untouched.
for c in $(awk 'NR>1 && $4==1 {print $1}' /proc/cgroups); do
    d=/sys/fs/cgroup/$c
    [ -e "$d" ] || continue
    d=$(readlink -f "$d")
    mountpoint -q "$d" && continue
    mount -t cgroup -o "$(basename "$d")" cgroup "$d" 2>/dev/null || true
done

now_ms() { echo $(($(date +%s%N) / 1000000)); }

for f in "$@"; do
    pod=$(awk '/^metadata:/{m=1; next} m && /^  name:/{print $2; exit}' "$f")
    t0=$(now_ms)
    if ! err=$(podman kube play "$f" 2>&1 >/dev/null); then
        t1=$(now_ms)
        podman kube down "$f" >/dev/null 2>&1
        echo "RESULT $pod $((t1 - t0)) 0 0 $(echo "$err" | tail -n 1)"
        continue
    fi
    t1=$(now_ms)
    running=$(podman ps --filter "pod=$pod" --filter status=running -q | wc -l)
    t2=$(now_ms)
    podman kube down "$f" >/dev/null 2>&1
    t3=$(now_ms)
    echo "RESULT $pod $((t1 - t0)) $((t3 - t2)) $running"
done
