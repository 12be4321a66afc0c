# shellcheck shell=bash
# The smoke tests of `scripts/build-images.sh --check` (sourced by it; not a command of its own).
#
# A few seconds in all: each check starts one or two throwaway containers and looks at what the kubernetes.io
# tutorials rely on (the full tutorials run in tests/integration/test_tutorials.py). Traffic goes only to the
# containers started here. The EXIT trap of build-images.sh removes every container that check_run started.

# check_run NAME DOCKER_RUN_ARGS...: start pykubelet-imgcheck-NAME-$$ detached; the EXIT trap removes it.
check_run() {
    local name="pykubelet-imgcheck-$1-$$"
    shift
    CHECK_CONTAINERS+=("$name")
    docker run -d --name "$name" "$@" >/dev/null
}

container_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

check_busybox() {
    local out env_out
    out=$(docker run --rm -e 'TUTORIAL=a b' "$BUSYBOX_TAG" sh -c \
        'echo hi; ls /bin | wc -l; id -un nobody; printenv TUTORIAL; printenv TUTORIAL NO_SUCH_VARIABLE; echo "rc=$?"
         /usr/bin/env true && echo env-ok')
    [[ $(sed -n 1p <<<"$out") == hi && $(sed -n 2p <<<"$out") -gt 200 && $(sed -n 3p <<<"$out") == nobody ]] ||
        die "busybox check failed: $out"
    [[ $(sed -n '4,7p' <<<"$out") == $'a b\na b\nrc=1\nenv-ok' ]] ||
        die "busybox check: printenv or /usr/bin/env do not behave like upstream's: $out"
    # run directly (no shell in between): exactly the container's environment, names that are not identifiers too
    env_out=$(docker run --rm -e 'TUTORIAL=a b' -e 'dotted.name=1' "$BUSYBOX_TAG" printenv)
    grep -qx 'TUTORIAL=a b' <<<"$env_out" && grep -qx 'dotted.name=1' <<<"$env_out" &&
        ! grep -q '^SHLVL=' <<<"$env_out" || die "busybox check: printenv with no NAME printed: $env_out"
    echo "check $BUSYBOX_TAG: ok ($(sed -n 2p <<<"$out") entries in /bin, printenv and /usr/bin/env like upstream)"
}

check_nginx() {
    local c="pykubelet-imgcheck-nginx-$$" ip i body= f
    check_run nginx "$NGINX_TAG"
    ip=$(container_ip "$c")
    for ((i = 0; i < 50; i++)); do # up to ~10 s; traffic only to the container we just started
        body=$(curl -fsS --noproxy '*' --max-time 2 "http://$ip:80/" 2>/dev/null) && break
        sleep 0.2
    done
    grep -q 'Welcome to nginx!' <<<"$body" || die "nginx check: no welcome page from http://$ip/"
    [[ $body == "$(docker exec "$c" cat /usr/share/nginx/html/index.html)" ]] ||
        die "nginx check: the page at / is not /usr/share/nginx/html/index.html (upstream's server root)"
    for f in access.log error.log; do
        docker exec "$c" test -f "/var/log/nginx/$f" -a ! -L "/var/log/nginx/$f" ||
            die "nginx check: /var/log/nginx/$f is not a regular file"
    done
    docker exec "$c" grep -q "GET / " /var/log/nginx/access.log ||
        die "nginx check: the request is not in /var/log/nginx/access.log"
    docker rm -f "$c" >/dev/null
    echo "check $NGINX_TAG: ok (welcome page from /usr/share/nginx/html on $ip:80, request logged in /var/log/nginx/access.log)"
}

# check_pause: upstream's pause exits 0 at once on SIGTERM (docker stop) and on SIGINT; both at the same time.
check_pause() {
    local term="pykubelet-imgcheck-pause-$$" int="pykubelet-imgcheck-pauseint-$$" start took code_term code_int
    check_run pause "$PAUSE_TAG"
    check_run pauseint "$PAUSE_TAG"
    sleep 1
    [[ $(docker inspect -f '{{.State.Running}}' "$term" "$int") == $'true\ntrue' ]] ||
        die "pause check: the containers are not running"
    start=$(now)
    docker kill -s INT "$int" >/dev/null
    docker stop -t 10 "$term" >/dev/null
    docker wait "$int" >/dev/null
    took=$(elapsed_since "$start")
    code_term=$(docker inspect -f '{{.State.ExitCode}}' "$term")
    code_int=$(docker inspect -f '{{.State.ExitCode}}' "$int")
    docker rm -f "$term" "$int" >/dev/null
    [[ $code_term == 0 && $code_int == 0 ]] ||
        die "pause check: exit code $code_term after SIGTERM, $code_int after SIGINT (upstream: 0 and 0)"
    awk -v t="$took" 'BEGIN { exit !(t < 5) }' || die "pause check: stopping took ${took}s (signal ignored?)"
    echo "check $PAUSE_TAG: ok (stays up; SIGTERM and SIGINT -> exit 0 in ${took}s)"
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
