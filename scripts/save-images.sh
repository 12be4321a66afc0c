#!/usr/bin/env bash
# Save images of the local Docker engine as `docker save` archives, for machines that cannot pull them.
#
#   scripts/save-images.sh DIR IMAGE...
#
# Writes DIR/<image with every character but [A-Za-z0-9_.-] turned into _>.tar (busybox:1.35 -> busybox_1.35.tar),
# the names the `lab` role's preloading looks for, plus a .id file with the image ID: an archive is rewritten only when
# the image changed. Without a Docker engine, or for an image the engine does not have, it says so and skips: the
# machine's engine then pulls (where it can). The Vagrantfile runs it before `vagrant up` for the docker provider.
set -euo pipefail

(($# >= 1)) || {
    echo "usage: scripts/save-images.sh DIR IMAGE..." >&2
    exit 2
}
dir=$1
shift
say() { echo "save-images: $*" >&2; }

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    say "no Docker engine answers here; not saving any image"
    exit 0
fi
mkdir -p "$dir"
for image in "$@"; do
    name=$(printf '%s' "$image" | sed 's/[^A-Za-z0-9_.-]/_/g')
    if ! id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null); then
        say "$image is not in the local engine; skipping it (scripts/build-images.sh builds the lab's images)"
        continue
    fi
    if [[ -s $dir/$name.tar && "$(cat "$dir/$name.tar.id" 2>/dev/null)" == "$id" ]]; then
        continue
    fi
    docker save --output "$dir/$name.tar.partial" "$image"
    chmod 0644 "$dir/$name.tar.partial" # readable by the machine's unprivileged user (ansible_local runs as vagrant)
    mv "$dir/$name.tar.partial" "$dir/$name.tar"
    echo "$id" >"$dir/$name.tar.id"
    say "saved $image to $dir/$name.tar"
done
