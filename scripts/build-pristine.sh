#!/usr/bin/env bash
# Build a pristine Debian 12 system image: the fresh machine a new user starts from, for
# tests/lab/test_fresh_machine.py. Prints its tag on stdout (progress goes to stderr).
#
#   scripts/build-pristine.sh            build unless an image with the current recipe's tag exists
#
# What is in it: bookworm minbase (mmdebstrap) with python3, python3-venv, git, ca-certificates and curl; this host's
# extra CA certificates (/usr/local/share/ca-certificates/*, then update-ca-certificates), /etc/pip.conf and apt
# sources (/etc/apt/sources.list.d/debian.sources), as every machine here has. What is not: Docker, Vagrant, and
# any apt package lists (/var/lib/apt/lists is empty, as on a machine whose lists were never fetched).
# The tag's suffix is a hash of this script and of the files copied in, so a change to either builds a new image.
# Environment: PYKUBELET_DEBIAN_MIRROR (default: the first URIs: line of debian.sources).
set -euo pipefail

SOURCES=/etc/apt/sources.list.d/debian.sources
CA_DIR=/usr/local/share/ca-certificates
note() { echo "build-pristine: $*" >&2; }
die() {
    echo "build-pristine: ERROR: $*" >&2
    exit 1
}

mirror=${PYKUBELET_DEBIAN_MIRROR:-}
if [[ -z $mirror && -r $SOURCES ]]; then
    mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$SOURCES" | head -n 1)
fi
mirror=${mirror:-http://deb.debian.org/debian}

inputs=("$0")
[[ -r $SOURCES ]] && inputs+=("$SOURCES")
[[ -r /etc/pip.conf ]] && inputs+=(/etc/pip.conf)
shopt -s nullglob
certs=("$CA_DIR"/*.crt)
shopt -u nullglob
inputs+=("${certs[@]}")
key=$({
    echo "$mirror"
    cat "${inputs[@]}"
} | sha256sum | cut -c1-12)
tag="pykubelet-lab/pristine:bookworm-$key"

if docker image inspect "$tag" >/dev/null 2>&1; then
    note "using the cached $tag"
    echo "$tag"
    exit 0
fi
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"

hooks=(
    --customize-hook='rm -f "$1/etc/apt/sources.list"'
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin'
)
if [[ -r $SOURCES ]]; then
    hooks+=(--customize-hook="mkdir -p \"\$1/etc/apt/sources.list.d\" && cp $SOURCES \"\$1/etc/apt/sources.list.d/\"")
else
    hooks+=(--customize-hook="echo 'deb $mirror bookworm main' >\"\$1/etc/apt/sources.list\"")
fi
if ((${#certs[@]})); then
    hooks+=(--customize-hook="cp ${certs[*]} \"\$1$CA_DIR/\" && chroot \"\$1\" update-ca-certificates >/dev/null 2>&1")
fi
if [[ -r /etc/pip.conf ]]; then
    hooks+=(--customize-hook='cp /etc/pip.conf "$1/etc/pip.conf"')
fi

start=$SECONDS
note "building $tag: bookworm minbase + python3 python3-venv git ca-certificates curl from $mirror ..."
log=$(mktemp "${TMPDIR:-/tmp}/build-pristine.XXXXXX.log")
trap 'rm -f "$log"' EXIT
# mmdebstrap writes the tarball to stdout, straight into `docker import`; its own messages go to the log.
if ! mmdebstrap --mode=root --variant=minbase --include=python3,python3-venv,git,ca-certificates,curl \
    --aptopt='APT::Install-Recommends "false"' "${hooks[@]}" \
    bookworm - "deb $mirror bookworm main" "deb $mirror bookworm-updates main" 2>"$log" |
    docker import --change 'CMD ["sleep", "infinity"]' --change 'ENV LANG=C.UTF-8' - "$tag" >/dev/null; then
    tail -n 30 "$log" >&2
    die "mmdebstrap or docker import failed (last lines above)"
fi
note "built $tag in $((SECONDS - start))s"
echo "$tag"
