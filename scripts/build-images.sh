#!/usr/bin/env bash
# Build, from Debian packages, the container images that pykubelet's tests and lab use.
#
# No container registry is reachable where this project is built and tested, so each image is a LOCAL
# LOOK-ALIKE with the upstream tag, built from Debian bookworm packages and `docker import`ed. The example
# manifests name the upstream tags, so they also work unchanged wherever Docker Hub is reachable. The
# look-alikes behave like the upstream images where the kubernetes.io tutorials look (checked by
# tests/integration/test_tutorials.py); scripts/images/recipes.sh says, next to each recipe, what still differs.
#
#   busybox:1.35                    Debian's busybox-static (1.35) + applet links, root/nobody users, /usr/bin/env,
#                                   and a printenv script for the upstream applet that Debian's build lacks
#   nginx:1.22                      bookworm minbase + nginx-light (1.22) with upstream's default server (port 80,
#                                   root /usr/share/nginx/html, welcome page); logs to /var/log/nginx/*.log files
#   registry.k8s.io/pause:3.10      Debian's catatonit in pause mode, as `/pause -P`
#   pykubelet-lab/systemd:bookworm  (--with-systemd / --all only) systemd + dbus + python3 + sshd + sudo,
#                                   user `vagrant` with passwordless sudo and Vagrant's insecure public keys
#
# Every image carries the hash of its recipe (the code of the functions that build it: RECIPE_PARTS below) in
# the label org.pykubelet-lab.recipe. An image whose tag exists with the current recipe is left alone
# ("present"); one built by an older recipe is rebuilt once ("rebuilt"); --force rebuilds regardless. An image
# under the tag that this script did not build (the real upstream one, say) is left alone unless --force.
# Each build goes to a temporary tag that moves onto the real tag only once the image is complete, so other
# users of the engine never find the tag missing or on a half-built image. The bootstrapped Debian root
# filesystems are cached as tarballs in $PYKUBELET_IMAGE_CACHE (default /var/cache/pykubelet-images), keyed by
# their recipe, so a forced rebuild is a re-import; --refresh bootstraps them again from the mirror.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/build-images.sh [--with-systemd | --all] [--force] [--refresh] [--check]

  (default)       build busybox:1.35, nginx:1.22 and registry.k8s.io/pause:3.10 if missing or built by an
                  older recipe (image label org.pykubelet-lab.recipe)
  --with-systemd  also build pykubelet-lab/systemd:bookworm (the lab/Molecule/Vagrant image)
  --all           same as --with-systemd
  --force         rebuild the selected images even if they are up to date
  --refresh       ignore the rootfs cache: bootstrap nginx/systemd again from the Debian mirror (implies --force)
  --check         afterwards, smoke-test each selected image in throwaway containers

environment:
  PYKUBELET_IMAGE_CACHE            rootfs cache dir (default /var/cache/pykubelet-images)
  PYKUBELET_DEBIAN_MIRROR          default http://deb.debian.org/debian
  PYKUBELET_DEBIAN_SECURITY_MIRROR default http://deb.debian.org/debian-security
EOF
}

SUITE=bookworm
MIRROR=${PYKUBELET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${PYKUBELET_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
CACHE_DIR=${PYKUBELET_IMAGE_CACHE:-/var/cache/pykubelet-images}
LABEL_KEY=org.pykubelet-lab.built-by
LABEL_VALUE=scripts/build-images.sh
RECIPE_KEY=org.pykubelet-lab.recipe
IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/images"

BUSYBOX_TAG=busybox:1.35
NGINX_TAG=nginx:1.22
PAUSE_TAG=registry.k8s.io/pause:3.10
SYSTEMD_TAG=pykubelet-lab/systemd:bookworm

FORCE=0
REFRESH=0
WITH_SYSTEMD=0
CHECK=0
while (($#)); do
    case $1 in
    --with-systemd | --all) WITH_SYSTEMD=1 ;;
    --force) FORCE=1 ;;
    --refresh) REFRESH=1 FORCE=1 ;;
    --check) CHECK=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
    shift
done

# ---------------------------------------------------------------------------------------------------------------
# general helpers

note() { echo "build-images: $*" >&2; }
die() {
    echo "build-images: ERROR: $*" >&2
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/pykubelet-images.XXXXXX")
CHECK_CONTAINERS=()
TEMP_TAGS=() # build_one's temporary tags: on an interrupted build, removing one drops the half-built image
cleanup() {
    local c target
    for c in "${CHECK_CONTAINERS[@]}"; do
        docker rm -f "$c" >/dev/null 2>&1 || true
    done
    for c in "${TEMP_TAGS[@]}"; do
        docker image rm "$c" >/dev/null 2>&1 || true
    done
    # An interrupted mmdebstrap can leave /proc, /sys or /dev mounted inside its target: unmount those first,
    # and never let rm cross into another file system.
    while read -r target; do
        umount -l "$target" 2>/dev/null || true
    done < <(awk -v w="$WORK/" 'index($2, w) == 1 {print $2}' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

pkg_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

APT_UPDATED=0
# apt_install PKG...: install those of the packages that are not installed yet (apt-get update at most once).
apt_install() {
    local missing=() p
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    [[ $EUID -eq 0 ]] || die "need root to install ${missing[*]} with apt"
    note "installing ${missing[*]} with apt"
    if ((!APT_UPDATED)); then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

is_static() { ! ldd "$1" >/dev/null 2>&1; }

# copy_binary SRC ROOT DEST: copy an executable into ROOT at DEST, plus its shared libraries if it is dynamic.
copy_binary() {
    local src=$1 root=$2 dest=$3 lib
    install -D -m 0755 "$src" "$root$dest"
    is_static "$src" && return 0
    note "$src is dynamically linked: copying its libraries"
    while read -r lib; do
        install -D -m 0755 "$lib" "$root$lib"
    done < <(ldd "$src" | awk '/=> \// {print $3} /^\t\// {print $1}')
}

# tar_dir DIR: write DIR as a tar stream to stdout (numeric owners, as they are in the tree).
tar_dir() { tar --numeric-owner -C "$1" -cf - .; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

image_size() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }

# import_image TAG SRC [--change INSTR]...: docker import SRC (a tar file, or - for stdin) as TAG, with our labels
# (who built it, and the recipe hash that build_one put in BUILD_RECIPE for BUILD_TAG, the image it builds).
import_image() {
    local tag=$1 src=$2
    shift 2
    docker import \
        --message "pykubelet-lab local look-alike of $BUILD_TAG, built from Debian $SUITE packages" \
        --change "LABEL $LABEL_KEY=$LABEL_VALUE" \
        --change "LABEL $RECIPE_KEY=$BUILD_RECIPE" \
        "$@" "$src" "$tag" >/dev/null
}

# set_stop_signal TAG SIGNAL: give TAG a STOPSIGNAL. `docker import/commit --change` does not accept STOPSIGNAL
# (docker 20.10), so this is a one-line build on top of the import. The legacy builder needs no buildx and no
# registry; the imported image stays as the untagged parent layer.
set_stop_signal() {
    local out
    if ! out=$(printf 'FROM %s\nSTOPSIGNAL %s\n' "$1" "$2" | DOCKER_BUILDKIT=0 docker build -q -t "$1" - 2>&1); then
        echo "$out" >&2
        die "could not set STOPSIGNAL $2 on $1"
    fi
}

image_label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null; }

# What each image's recipe is made of: the functions whose code decides what goes into the image. Their code,
# hashed, is the image's recipe label; debian_rootfs keys its own tarball cache the same way.
declare -A RECIPE_PARTS=(
    [build_busybox]="build_busybox busybox_extras import_image tar_dir"
    [build_pause]="build_pause copy_binary import_image tar_dir"
    [build_nginx]="build_nginx customize_nginx debian_rootfs clean_rootfs import_image set_stop_signal"
    [build_systemd]="build_systemd customize_systemd debian_rootfs clean_rootfs import_image set_stop_signal"
)

# recipe_hash BUILD_FUNCTION: 12 hex digits that change whenever the recipe's code (or the Debian suite) does.
recipe_hash() {
    local parts
    read -r -a parts <<<"${RECIPE_PARTS[$1]:?no RECIPE_PARTS entry for $1}"
    {
        echo "$SUITE"
        declare -f "${parts[@]}"
        [[ $1 != build_systemd ]] || echo "$VAGRANT_INSECURE_KEYS"
    } | sha256sum | cut -c1-12
}

BUILD_TAG=
BUILD_RECIPE=
# build_one TAG BUILD_FUNCTION: build TAG if it is missing, from an older recipe, or --force; print one line.
# The build runs under a temporary tag, then `docker tag` moves TAG onto it in one step.
build_one() {
    local tag=$1 builder=$2 start old_id have temp state=built
    BUILD_TAG=$tag
    BUILD_RECIPE=$(recipe_hash "$builder")
    if image_exists "$tag"; then
        have=$(image_label "$tag" "$RECIPE_KEY")
        if ((!FORCE)) && [[ $(image_label "$tag" "$LABEL_KEY") != "$LABEL_VALUE" ]]; then
            printf '%-32s present  %s  (not built by this script: left alone)\n' "$tag" "$(image_size "$tag")"
            return 0
        fi
        if ((!FORCE)) && [[ $have == "$BUILD_RECIPE" ]]; then
            printf '%-32s present  %s  (recipe %s)\n' "$tag" "$(image_size "$tag")" "$have"
            return 0
        fi
        [[ $have == "$BUILD_RECIPE" ]] || state=rebuilt
        [[ $state == built ]] || note "$tag: built by recipe ${have:-(unlabelled)}, the recipe is now $BUILD_RECIPE: rebuilding"
    fi
    old_id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
    temp="pykubelet-lab-build/${tag//[^a-z0-9._-]/-}:$$"
    TEMP_TAGS+=("$temp")
    start=$(now)
    "$builder" "$temp"
    docker tag "$temp" "$tag"
    docker image rm "$temp" >/dev/null # only the temporary name: TAG holds the image now
    if [[ -n $old_id && $old_id != "$(docker image inspect -f '{{.Id}}' "$tag")" ]]; then
        docker image rm "$old_id" >/dev/null 2>&1 || true # the replaced build, unless a container still uses it
    fi
    printf '%-32s %-8s %s  in %ss (recipe %s)\n' "$tag" "$state" "$(image_size "$tag")" "$(elapsed_since "$start")" "$BUILD_RECIPE"
}

# ---------------------------------------------------------------------------------------------------------------
# Debian root filesystems (mmdebstrap), cached as tarballs

# clean_rootfs DIR: drop what an image does not need: apt lists and caches, docs, man pages, logs, host identity.
clean_rootfs() {
    local d=${1:?}
    [[ $d == "$WORK"/?* ]] || die "clean_rootfs: refusing to clean $d (not under $WORK)"
    rm -rf "$d"/var/lib/apt/lists/* "$d"/var/cache/apt/*.bin "$d"/var/cache/apt/archives/*.deb \
        "$d"/var/cache/debconf/*-old "$d"/var/lib/dpkg/*-old \
        "$d"/usr/share/man/* "$d"/usr/share/info/* "$d"/usr/share/lintian "$d"/usr/share/linda \
        "$d"/var/log/apt/* "$d"/var/log/dpkg.log "$d"/var/log/alternatives.log "$d"/var/log/bootstrap.log \
        "$d"/tmp/* "$d"/var/tmp/* "${d:?}"/run/* "${d:?}"/dev/*
    # docs: keep only the copyright files (licences), like Debian's own slim images
    if [[ -d $d/usr/share/doc ]]; then
        find "$d/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
        find "$d/usr/share/doc" -mindepth 1 -type d -empty -delete
    fi
    # docker bind-mounts its own /etc/hostname and /etc/resolv.conf: do not ship the build host's
    rm -f "$d/etc/hostname" "$d/etc/resolv.conf"
    mkdir -p "$d/run/lock"
    chmod 1777 "$d/tmp" "$d/var/tmp"
}

# debian_rootfs NAME CUSTOMIZE_FUNCTION PACKAGE...
# Sets ROOTFS_TAR to a cached tarball of bookworm minbase + PACKAGES (with updates and security updates),
# customized by CUSTOMIZE_FUNCTION DIR and cleaned. The cache key covers the packages, the mirrors and the
# bodies of this function and of the customize and clean functions, so editing a recipe invalidates its tarball.
ROOTFS_TAR=
debian_rootfs() {
    local name=$1 customize=$2
    shift 2
    local key dir log start
    key=$({
        echo "$SUITE $MIRROR $SECURITY_MIRROR $*"
        declare -f debian_rootfs "$customize" clean_rootfs
    } | sha256sum | cut -c1-12)
    ROOTFS_TAR="$CACHE_DIR/$name-$SUITE-$key.tar"
    if ((!REFRESH)) && [[ -s $ROOTFS_TAR ]]; then
        note "$name: using cached rootfs $ROOTFS_TAR"
        return 0
    fi
    apt_install mmdebstrap
    dir="$WORK/$name-rootfs"
    log="$WORK/$name-mmdebstrap.log"
    start=$(now)
    note "$name: bootstrapping $SUITE minbase + $* (mmdebstrap) ..."
    if ! mmdebstrap --mode=root --variant=minbase \
        --include="$(
            IFS=,
            echo "$*"
        )" \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        "$SUITE" "$dir" \
        "deb $MIRROR $SUITE main" \
        "deb $MIRROR $SUITE-updates main" \
        "deb $SECURITY_MIRROR $SUITE-security main" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "$name: mmdebstrap failed (log above)"
    fi
    note "$name: bootstrapped in $(elapsed_since "$start")s; customizing"
    "$customize" "$dir"
    clean_rootfs "$dir"
    mkdir -p "$CACHE_DIR"
    rm -f "$CACHE_DIR/$name-$SUITE-"*.tar # tarballs of older recipes
    tar_dir "$dir" >"$ROOTFS_TAR.partial"
    mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
    rm -rf --one-file-system "$dir"
}

# ---------------------------------------------------------------------------------------------------------------
# the recipes (build_busybox, build_pause, build_nginx, build_systemd) and the --check smoke tests

# shellcheck source=images/recipes.sh
source "$IMAGES_DIR/recipes.sh"
# shellcheck source=images/checks.sh
source "$IMAGES_DIR/checks.sh"

# ---------------------------------------------------------------------------------------------------------------

command -v docker >/dev/null 2>&1 || die "no docker CLI (run scripts/ensure-docker.sh first)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (run scripts/ensure-docker.sh first)"

# One build at a time per machine (another run would build the same images, and race for the cache tarballs).
if mkdir -p "$CACHE_DIR" 2>/dev/null && exec 9>>"$CACHE_DIR/.build-images.lock"; then
    if ! flock -n 9; then
        note "another scripts/build-images.sh is running on this machine: waiting for it (at most 15 minutes)"
        flock -w 900 9 || die "the other scripts/build-images.sh still holds $CACHE_DIR/.build-images.lock after 15 minutes"
    fi
fi

build_one "$BUSYBOX_TAG" build_busybox
build_one "$PAUSE_TAG" build_pause
build_one "$NGINX_TAG" build_nginx
if ((WITH_SYSTEMD)); then
    build_one "$SYSTEMD_TAG" build_systemd
fi
exec 9>&- # the images are built: checks need no lock

if ((CHECK)); then
    check_busybox
    check_pause
    check_nginx
    if ((WITH_SYSTEMD)); then
        check_systemd
    fi
fi
