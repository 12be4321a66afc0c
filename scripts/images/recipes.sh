# shellcheck shell=bash
# The image recipes of scripts/build-images.sh (sourced by it; not a command of its own).
#
# Each build_<image> TAG builds one image under TAG. What a recipe's functions say is also what identifies the
# image: build-images.sh hashes their code (RECIPE_PARTS there) into the image's org.pykubelet-lab.recipe label,
# so editing a function here rebuilds that image once on every machine that has the older build.
#
# Where the look-alikes still differ from the upstream images, and why, is said next to each recipe.

# ---------------------------------------------------------------------------------------------------------------
# busybox:1.35
#
# Debian's busybox-static is the same release as the upstream image (1.35) but built with Debian's own applet
# selection (269 applets): it lacks about 115 of those that busybox 1.35's `make defconfig`, the upstream
# image's configuration, enables. Of those, the kubernetes.io tasks checked (the five in manifests/tutorials/,
# plus share-process-namespace, security-context, liveness probes, DNS debugging) use only `printenv`
# ("Define a Command and Arguments for a Container", `kubectl exec ... -- printenv`); busybox_extras adds it
# as a small script that behaves like the applet. Also like upstream: /usr/bin/env (for `#!/usr/bin/env sh`
# scripts) and every applet as a link in /bin. Upstream applets still missing here: addgroup adduser base32
# chpasswd chrt cksum comm delgroup flock fsync fuser hd hexedit hush install iostat ipcrm ipcs killall5 lsattr
# lsof mountpoint mpstat nice nohup pgrep pkill pmap pstree pwdx script setarch split sum users wall, and
# hardware, mail and daemon applets (fbset, hdparm, lpd, ntpd, sendmail, runsv, ...).

# busybox_extras ROOT: stand-ins for upstream applets that Debian's build lacks (only where it lacks them).
busybox_extras() {
    local root=$1
    if [[ ! -e $root/bin/printenv ]]; then
        # printenv [NAME]...: the applet's behaviour (coreutils/printenv.c): no NAME prints the whole environment,
        # one VAR=value a line; else the value of each NAME that is set, and exit status 1 if any is not.
        # It reads /proc/$$/environ, the environment exactly as the command was given it, in its order: the
        # shell running this script adds SHLVL and PWD to its own copy and drops names that are not shell
        # identifiers, which the applet would not show or drop. xargs -0 splits the NUL-separated entries,
        # so values with newlines stay whole.
        cat >"$root/bin/printenv" <<'EOF'
#!/bin/sh
# printenv [NAME]... (pykubelet-lab: stands in for the busybox applet that Debian's busybox-static lacks)
if [ $# -eq 0 ]; then
    exec xargs -0 -r printf '%s\n' </proc/$$/environ
fi
xargs -0 awk '
    BEGIN {
        names = ARGV[1]
        for (i = 2 + names; i < ARGC; i++) {
            eq = index(ARGV[i], "=")
            key = substr(ARGV[i], 1, eq - 1)
            if (eq > 1 && !(key in env)) env[key] = substr(ARGV[i], eq + 1)
        }
        status = 0
        for (i = 2; i < 2 + names; i++)
            if (ARGV[i] in env) print env[ARGV[i]]
            else status = 1
        exit status
    }' "$#" "$@" </proc/$$/environ || exit 1
EOF
        chmod 0755 "$root/bin/printenv"
    fi
    mkdir -p "$root/usr/bin"
    ln -s ../../bin/env "$root/usr/bin/env"
}

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
    busybox_extras "$root"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/home:/bin/false' >"$root/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nobody:x:65534:' >"$root/etc/group"
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
    note "busybox: $("$bb" | head -n 1 | sed 's/ multi-call binary.*//'), $n applet links + printenv script"
    tar_dir "$root" | import_image "$tag" - --change 'CMD ["sh"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
}

# ---------------------------------------------------------------------------------------------------------------
# registry.k8s.io/pause:3.10
#
# Upstream's /pause sleeps until SIGINT or SIGTERM, then exits 0, and reaps the zombies it inherits as PID 1 of
# a shared PID namespace; it runs as 65535:65535. Debian's catatonit in pause mode (-P) does the same. It is
# installed as /pause, so `ps` in a pod with shareProcessNamespace shows "/pause -P" where upstream shows "/pause".

build_pause() {
    local tag=$1 root="$WORK/pause" bin
    apt_install catatonit
    bin=$(command -v catatonit) || die "catatonit not found after installing it"
    mkdir -p "$root"/{dev,etc,proc,sys}
    copy_binary "$bin" "$root" /pause
    tar_dir "$root" | import_image "$tag" - \
        --change 'ENTRYPOINT ["/pause", "-P"]' \
        --change 'USER 65535:65535'
}

# ---------------------------------------------------------------------------------------------------------------
# nginx:1.22
#
# Debian's nginx-light is 1.22 too. Its default site serves /var/www/html; upstream's image serves
# /usr/share/nginx/html (the "shared volume" and "init containers" tutorials mount their page there), from
# /etc/nginx/conf.d/default.conf. customize_nginx makes the default server upstream's: the same file, root and
# welcome page, listening on port 80. Kept from Debian on purpose: the logs are regular files in /var/log/nginx
# (upstream links them to /dev/stdout and /dev/stderr), which the walkthrough's log truncator relies on;
# workers run as www-data (upstream: nginx, uid 101). Upstream's entrypoint adds `listen [::]:80` where the
# container has IPv6; this image has no entrypoint and listens on IPv4 only.

customize_nginx() {
    local d=$1 f
    # what the walkthrough and tests rely on: real log files (not the upstream image's /dev/stdout links)
    for f in access.log error.log; do
        [[ -f $d/var/log/nginx/$f && ! -L $d/var/log/nginx/$f ]] || die "nginx: /var/log/nginx/$f is not a regular file"
    done
    grep -q 'Welcome to nginx!' "$d/usr/share/nginx/html/index.html" ||
        die "nginx: /usr/share/nginx/html/index.html (from nginx-common) does not say 'Welcome to nginx!'"
    rm -f "$d/etc/nginx/sites-enabled/default" # Debian's site on /var/www/html; sites-available keeps it
    cat >"$d/etc/nginx/conf.d/default.conf" <<'EOF'
# The default server, as in the upstream nginx image (pykubelet-lab look-alike built from Debian's nginx-light).
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
    cat >"$d/usr/share/nginx/html/50x.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
</body>
</html>
EOF
    chroot "$d" nginx -t -q || die "nginx: the configuration does not pass 'nginx -t'"
}

build_nginx() {
    local tag=$1
    debian_rootfs nginx customize_nginx nginx-light
    import_image "$tag" "$ROOTFS_TAR" \
        --change 'CMD ["nginx", "-g", "daemon off;"]' \
        --change 'EXPOSE 80'
    set_stop_signal "$tag" SIGQUIT # graceful shutdown, like the upstream image
}

# ---------------------------------------------------------------------------------------------------------------
# pykubelet-lab/systemd:bookworm (the lab machine; no upstream counterpart)

# Vagrant's well-known insecure public keys (hashicorp/vagrant keys/vagrant.pub.rsa and keys/vagrant.pub.ed25519).
# Debian's vagrant 2.3.4 logs in with the RSA one; newer Vagrant releases use the ed25519 one.
VAGRANT_INSECURE_KEYS='ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure public key
ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN1YdxBpNlzxDqfJyw/QKow1F+wvG9hXGoqiysfJOn5Y vagrant insecure public key'

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
