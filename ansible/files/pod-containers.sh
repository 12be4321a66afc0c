#!/bin/sh
# pod-containers.sh ENDPOINT POD_PREFIX
#
# The containers of the pods whose name starts with POD_PREFIX, as the runtime behind ENDPOINT shows them (pykubelet's
# containerRuntimeEndpoint: the Docker socket, or a CRI socket such as containerd's), one line each, sorted:
#
#   <container name> <id> <state> <network namespace> <started at> <attempt>
#
# The pod's sandbox (the infra container) is named POD; state is running, exited or created on either runtime; the
# network namespace is the kernel's name for it (net:[inode]), or - for a container that is not running. The
# walkthrough (ansible/walkthrough.yml) reads this so that each of its steps asks the same question of both runtimes:
# Docker through `docker -H ENDPOINT ps` / `inspect`, the CRI through `pykubelet crictl pods` / `ps` / `inspect(p)`.
set -eu
endpoint=$1
prefix=$2

netns() {
    if [ "$1" -gt 0 ] 2>/dev/null; then readlink "/proc/$1/ns/net" || echo -; else echo -; fi
}

list() {
    case $endpoint in
    *docker.sock)
        docker="docker -H $endpoint"
        ids=$($docker ps --all --quiet --filter label=io.kubernetes.pod.name)
        for id in $ids; do
            $docker inspect --format '{{ index .Config.Labels "io.kubernetes.pod.name" }} {{ index .Config.Labels "io.kubernetes.container.name" }} {{ .Id }} {{ .State.Status }} {{ .State.Pid }} {{ .State.StartedAt }} {{ or (index .Config.Labels "annotation.io.kubernetes.container.restartCount") 0 }}' "$id" 2>/dev/null || true
        done
        ;;
    *)
        crictl="pykubelet crictl --runtime-endpoint $endpoint"
        pods=$($crictl pods --quiet)
        for pod in $pods; do
            # A pod or container removed since the listing is skipped, as docker inspect's are above.
            info=$($crictl inspectp "$pod" 2>/dev/null) || continue
            sandbox=$(printf '%s\n' "$info" | jq -r '[.status.metadata.name, "POD", .status.id,
                (if .status.state == "SANDBOX_READY" then "running" else "exited" end),
                (.info.pid // 0), .status.createdAt, .status.metadata.attempt] | map(tostring) | join(" ")')
            echo "$sandbox"
            containers=$($crictl ps --all --pod "$pod" --quiet 2>/dev/null) || continue
            for container in $containers; do
                info=$($crictl inspect "$container" 2>/dev/null) || continue
                printf '%s\n' "$info" | jq -r --arg pod "${sandbox%% *}" '[$pod, .status.metadata.name,
                    .status.id, (.status.state | sub("CONTAINER_"; "") | ascii_downcase),
                    (.info.pid // 0), .status.startedAt, .status.metadata.attempt] | map(tostring) | join(" ")'
            done
        done
        ;;
    esac
}

# A runtime that does not answer fails the script (no output that could pass for "no containers").
listing=$(list)
printf '%s\n' "$listing" | while read -r pod name id state pid started attempt; do
    case $pod in
    "$prefix"?*) echo "$name $id $state $(netns "$pid") $started ${attempt:-0}" ;;
    esac
done | sort
