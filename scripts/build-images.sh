#!/usr/bin/env bash
# Build, from Debian packages, the container images that pykubelet's tests and lab use.
#
# No container registry is reachable where this project is built and tested, so each image is a LOCAL
# LOOK-ALIKE with the upstream tag, built from Debian bookworm packages and `docker import`ed. The example
# manifests name the upstream tags, so they also work unchanged wherever Docker Hub is reachable.
#
#   busybox:1.35                    Debian's busybox-static (1.35) + applet links, root/nobody users
#   nginx:1.22                      bookworm minbase + nginx-light (1.22); logs to /var/log/nginx/*.log files
#   registry.k8s.io/pause:3.10      Debian's catatonit in pause mode (`catatonit -P`)
#   pykubelet-lab/systemd:bookworm  (--with-systemd / --all only) systemd + dbus + python3 + sshd + sudo,
#                                   user `vagrant` with passwordless sudo and Vagrant's insecure public keys
#
# An image whose tag already exists is left alone ("present"); --force rebuilds it. The bootstrapped Debian
# root filesystems are cached as tarballs in $PYKUBELET_IMAGE_CACHE (default /var/cache/pykubelet-images),
# keyed by their recipe, so a forced rebuild is a re-import; --refresh bootstraps them again from the mirror.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/build-images.sh [--with-systemd | --all] [--force] [--refresh] [--check]

  (default)       build busybox:1.35, nginx:1.22 and registry.k8s.io/pause:3.10 if missing
  --with-systemd  also build pykubelet-lab/systemd:bookworm (the lab/Molecule/Vagrant image)
  --all           same as --with-systemd
  --force         rebuild the selected images even if their tags exist
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

BUSYBOX_TAG=busybox:1.35
NGINX_TAG=nginx:1.22
PAUSE_TAG=registry.k8s.io/pause:3.10
SYSTEMD_TAG=pykubelet-lab/systemd:bookworm

# Vagrant's well-known insecure public keys (hashicorp/vagrant keys/vagrant.pub.rsa and keys/vagrant.pub.ed25519).
# Debian's vagrant 2.3.4 logs in with the RSA one; newer Vagrant releases use the ed25519 one.
VAGRANT_INSECURE_KEYS='ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure public key
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y vagrant insecure public key'

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
cleanup() {
    local c target
    for c in "${CHECK_CONTAINERS[@]}"; do
        docker rm -f "$c" >/dev/null 2>&1 || true
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

# import_image TAG SRC [--change INSTR]...: docker import SRC (a tar file, or - for stdin) as TAG, with our label.
import_image() {
    local tag=$1 src=$2
    shift 2
    docker import \
        --message "pykubelet-lab local look-alike of $tag, built from Debian $SUITE packages" \
        --change "LABEL $LABEL_KEY=$LABEL_VALUE" \
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

# build_one TAG BUILD_FUNCTION: build TAG unless it exists (or --force); print one line either way.
build_one() {
    local tag=$1 builder=$2 start old_id extra=
    if ((!FORCE)) && image_exists "$tag"; then
        if [[ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL_KEY\"}}" "$tag" 2>/dev/null)" != "$LABEL_VALUE" ]]; then
            extra='  (not built by this script)'
        fi
        printf '%-32s present  %s%s\n' "$tag" "$(image_size "$tag")" "$extra"
        return 0
    fi
    old_id=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
    start=$(now)
    "$builder" "$tag"
    if [[ -n $old_id && $old_id != "$(docker image inspect -f '{{.Id}}' "$tag")" ]]; then
        docker image rm "$old_id" >/dev/null 2>&1 || true # the replaced build, unless a container still uses it
    fi
    printf '%-32s built    %s  in %ss\n' "$tag" "$(image_size "$tag")" "$(elapsed_since "$start")"
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
# image recipes

build_busybox() {
    local tag=$1 root="$WORK/busybox" bb=/bin/busybox applet n=0
    apt_install busybox-static
    is_static "$bb" || die "$bb is not statically linked (is Debian's busybox installed instead of busybox-static?)"
    mkdir -p "$root"/{bin,dev,etc,home,proc,root,sys,tmp,usr/bin,usr/sbin,var/log,var/www}
    install -m 0755 "$bb" "$root/bin/busybox"
    # like the upstream image: every applet is a link to /bin/busybox in /bin
    while read -r applet; do
        [[ -n $applet && $applet != */* && ! -e $root/bin/$applet ]] || continue
        ln -s busybox "$root/bin/$applet"
        n=$((n + 1))
    done < <("$bb" --list)
    [[ -L $root/bin/sh ]] || die "busybox has no sh applet"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
    note "busybox: $("$bb" | head -n 1 | sed 's/ multi-call binary.*//'), $n applet links"
    tar_dir "$root" | import_image "$tag" - --change 'CMD ["sh"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
}

build_pause() {
    local tag=$1 root="$WORK/pause" bin
    apt_install catatonit
    bin=$(command -v catatonit) || die "catatonit not found after installing it"
    mkdir -p "$root"/{dev,etc,proc,sys}
    copy_binary "$bin" "$root" /catatonit
    # pause mode: no child, sleep until SIGINT/SIGTERM, then exit 0. Runs as 65535 like the upstream pause image.
    tar_dir "$root" | import_image "$tag" - \
        --change 'ENTRYPOINT ["/catatonit", "-P"]' \
        --change 'USER 65535:65535'
}

customize_nginx() {
    local d=$1 f
    # what the walkthrough and tests rely on: real log files (not the upstream image's /dev/stdout links)
    for f in access.log error.log; do
        [[ -f $d/var/log/nginx/$f && ! -L $d/var/log/nginx/$f ]] || die "nginx: /var/log/nginx/$f is not a regular file"
    done
    grep -q 'Welcome to nginx!' "$d/var/www/html/index.nginx-debian.html" ||
        die "nginx: /var/www/html/index.nginx-debian.html does not say 'Welcome to nginx!'"
}

build_nginx() {
    local tag=$1
    debian_rootfs nginx customize_nginx nginx-light
    import_image "$tag" "$ROOTFS_TAR" \
        --change 'CMD ["nginx", "-g", "daemon off;"]' \
        --change 'EXPOSE 80'
    set_stop_signal "$tag" SIGQUIT # graceful shutdown, like the upstream image
}

customize_systemd() {
    local d=$1
    # the vagrant user Vagrant's docker provider logs in as (has_ssh = true)
    chroot "$d" useradd --create-home --shell /bin/bash --user-group vagrant
    chroot "$d" usermod --password '*' vagrant # no password, but not "locked" either (key logins only)
    echo 'vagrant ALL=(ALL) NOPASSWD:ALL' >"$d/etc/sudoers.d/vagrant"
    chmod 0440 "$d/etc/sudoers.d/vagrant"
    chroot "$d" visudo -c -q -f /etc/sudoers.d/vagrant
    install -d -m 0700 "$d/home/vagrant/.ssh"
    printf '%s\n' "$VAGRANT_INSECURE_KEYS" >"$d/home/vagrant/.ssh/authorized_keys"
    chmod 0600 "$d/home/vagrant/.ssh/authorized_keys"
    chroot "$d" chown -R vagrant:vagrant /home/vagrant/.ssh
    # every container gets its own identity: no baked-in ssh host keys or machine-id
    rm -f "$d"/etc/ssh/ssh_host_*
    mkdir -p "$d/etc/systemd/system/ssh.service.d"
    printf '%s\n' '[Service]' 'ExecStartPre=' 'ExecStartPre=/usr/bin/ssh-keygen -A' 'ExecStartPre=/usr/sbin/sshd -t' \
        >"$d/etc/systemd/system/ssh.service.d/host-keys.conf"
    : >"$d/etc/machine-id"
    # units that only make sense on real hardware or a VM console
    local unit
    for unit in getty@tty1.service serial-getty@ttyS0.service console-getty.service \
        systemd-remount-fs.service sys-kernel-debug.mount sys-kernel-tracing.mount \
        sys-kernel-config.mount sys-fs-fuse-connections.mount dev-hugepages.mount; do
        ln -sf /dev/null "$d/etc/systemd/system/$unit"
    done
    # inside the lab machine apt should behave like stock Debian (recommends on); docs stay excluded
    rm -f "$d/etc/apt/apt.conf.d/99mmdebstrap"
}

build_systemd() {
    local tag=$1
    debian_rootfs systemd customize_systemd \
        systemd systemd-sysv dbus python3 iproute2 ca-certificates sudo curl openssh-server
    import_image "$tag" "$ROOTFS_TAR" \
        --change 'CMD ["/lib/systemd/systemd"]' \
        --change 'ENV container=docker' \
        --change 'EXPOSE 22'
    set_stop_signal "$tag" SIGRTMIN+3 # systemd's "halt"; on SIGTERM it would only re-execute itself
}

# ---------------------------------------------------------------------------------------------------------------
# smoke tests (--check)

# check_run NAME DOCKER_RUN_ARGS...: start pykubelet-imgcheck-NAME-$$ detached; the EXIT trap removes it.
check_run() {
    local name="pykubelet-imgcheck-$1-$$"
    shift
    CHECK_CONTAINERS+=("$name")
    docker run -d --name "$name" "$@" >/dev/null
}

container_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

check_busybox() {
    local out
    out=$(docker run --rm "$BUSYBOX_TAG" sh -c 'echo hi; ls /bin | wc -l; id -un nobody')
    [[ $(sed -n 1p <<<"$out") == hi && $(sed -n 2p <<<"$out") -gt 200 && $(sed -n 3p <<<"$out") == nobody ]] ||
        die "busybox check failed: $out"
    echo "check $BUSYBOX_TAG: ok ($(sed -n 2p <<<"$out") entries in /bin)"
}

check_nginx() {
    local c="pykubelet-imgcheck-nginx-$$" ip i body=
    check_run nginx "$NGINX_TAG"
    ip=$(container_ip "$c")
    for ((i = 0; i < 50; i++)); do # up to ~10 s; traffic only to the container we just started
        body=$(curl -fsS --noproxy '*' --max-time 2 "http://$ip/" 2>/dev/null) && break
        sleep 0.2
    done
    grep -q 'Welcome to nginx!' <<<"$body" || die "nginx check: no welcome page from http://$ip/"
    docker exec "$c" sh -c 'test -f /var/log/nginx/access.log && test ! -L /var/log/nginx/access.log && grep -q "GET / " /var/log/nginx/access.log' ||
        die "nginx check: the request is not in the regular file /var/log/nginx/access.log"
    docker rm -f "$c" >/dev/null
    echo "check $NGINX_TAG: ok (welcome page from $ip, request logged in /var/log/nginx/access.log)"
}

check_pause() {
    local c="pykubelet-imgcheck-pause-$$" start took code
    check_run pause "$PAUSE_TAG"
    sleep 1
    [[ $(docker inspect -f '{{.State.Running}}' "$c") == true ]] || die "pause check: container is not running"
    start=$(now)
    docker stop -t 10 "$c" >/dev/null
    took=$(elapsed_since "$start")
    code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
    docker rm -f "$c" >/dev/null
    [[ $code == 0 ]] || die "pause check: exit code $code after docker stop"
    awk -v t="$took" 'BEGIN { exit !(t < 5) }' || die "pause check: docker stop took ${took}s (SIGTERM ignored?)"
    echo "check $PAUSE_TAG: ok (stays up; docker stop -> exit 0 in ${took}s)"
}

check_systemd() {
    local c="pykubelet-imgcheck-systemd-$$" state start took i
    check_run systemd --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock "$SYSTEMD_TAG"
    # right after `docker run`, systemctl can fail with "Failed to connect to bus" (PID 1 has not created its
    # socket yet, and --wait does not cover that): retry until the manager answers
    for ((i = 0; i < 60; i++)); do
        state=$(timeout 90 docker exec "$c" systemctl is-system-running --wait 2>&1) || true
        [[ $state == *"Failed to connect to bus"* ]] || break
        sleep 0.5
    done
    case $state in
    running | degraded) ;;
    *) die "systemd check: is-system-running says '$state'" ;;
    esac
    docker exec "$c" systemctl is-active --quiet ssh || die "systemd check: ssh.service is not active"
    start=$(now)
    docker stop -t 30 "$c" >/dev/null
    took=$(elapsed_since "$start")
    docker rm -f "$c" >/dev/null
    echo "check $SYSTEMD_TAG: ok (system $state, sshd active, docker stop took ${took}s)"
}

# ---------------------------------------------------------------------------------------------------------------

command -v docker >/dev/null 2>&1 || die "no docker CLI (run scripts/ensure-docker.sh first)"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (run scripts/ensure-docker.sh first)"

build_one "$BUSYBOX_TAG" build_busybox
build_one "$PAUSE_TAG" build_pause
build_one "$NGINX_TAG" build_nginx
if ((WITH_SYSTEMD)); then
    build_one "$SYSTEMD_TAG" build_systemd
fi

if ((CHECK)); then
    check_busybox
    check_pause
    check_nginx
    if ((WITH_SYSTEMD)); then
        check_systemd
    fi
fi
