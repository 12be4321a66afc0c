"""What a real node's kubelet settings do to pykubelet: ``--manifest-url-header`` as the kubelet parses it
(``ColonSeparatedMultimapStringString``) and a kubeadm node's ``/var/lib/kubelet/config.yaml``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from pykubelet.cli import parser
from pykubelet.config.url import URLSource
from pykubelet.options import OptionsError, build, load_config_file
from pykubelet.urlheaders import flatten_headers, parse_headers, split_header_flag

# What `kubeadm init` (1.30) writes to /var/lib/kubelet/config.yaml, plus the static pod path it sets.
KUBEADM_CONFIG = """\
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""


def test_header_flag_pairs_as_the_kubelet_splits_them() -> None:
    assert split_header_flag("a:hello,b:again,c:world,b:beautiful") == [
        ("a", "hello"),
        ("b", "again"),
        ("c", "world"),
        ("b", "beautiful"),
    ]
    assert split_header_flag(" Authorization : Bearer x:y ,,") == [("Authorization", "Bearer x:y")]
    with pytest.raises(ValueError, match="malformed pair 'novalue', expect string:string"):
        split_header_flag("novalue")


def test_repeated_flags_append_in_order() -> None:
    args = vars(
        parser().parse_args(
            ["--manifest-url-header", "a:hello,b:again", "--manifest-url-header", "b:beautiful"]
        )
    )
    headers = parse_headers(flatten_headers(args["manifest_url_header"]))
    assert headers.getall("b") == ["again", "beautiful"]
    assert headers.getall("a") == ["hello"]


def test_a_bad_header_flag_is_refused_with_the_pair() -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["--manifest-url-header", "X-Token"])


def test_the_config_map_of_lists_gives_every_value(tmp_path: Path) -> None:
    config = tmp_path / "kubelet.yaml"
    config.write_text(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "staticPodURL: http://127.0.0.1/pods\n"
        "staticPodURLHeader: {X-A: [one, 'two, with a comma'], X-B: [three]}\n"
    )
    options = build({"pod_manifest_path": "/m"}, str(config))
    assert parse_headers(options.manifest_url_header).getall("X-A") == ["one", "two, with a comma"]


async def test_the_url_source_sends_every_value() -> None:
    seen: list[list[str]] = []

    async def pods(request: web.Request) -> web.Response:
        seen.append(request.headers.getall("X-A", []))
        return web.Response(text="")

    app = web.Application()
    app.router.add_get("/pods", pods)
    async with TestServer(app, host="127.0.0.1") as server:
        headers = parse_headers(split_header_flag("X-A:one,X-A:two"))
        source = URLSource(str(server.make_url("/pods")), headers, "node1", 20.0, lambda snapshot: None)  # type: ignore[arg-type]
        await source.poll()  # one GET, as each period makes
    assert seen == [["one", "two"]]


def test_a_kubeadm_nodes_config_starts_pykubelet(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(KUBEADM_CONFIG)
    with caplog.at_level(logging.WARNING, logger="pykubelet.options"):
        options = build({"hostname_override": "node1"}, str(config))
    assert options.pod_manifest_path == "/etc/kubernetes/manifests"
    assert options.file_check_frequency == 20  # kubeadm's 0s is defaulted, as SetDefaults does
    assert options.sync_frequency == 60 and options.http_check_frequency == 20
    assert options.runtime_endpoint  # "" is the default endpoint
    ignored = [r for r in caplog.records if "does not use are ignored" in r.getMessage()]
    assert len(ignored) == 1  # logged once, naming every field
    for field in ("authentication", "authorization", "clusterDNS", "rotateCertificates"):
        assert field in ignored[0].getMessage()
    assert "staticPodPath" not in ignored[0].getMessage()
    assert options.cgroup_driver == "systemd"  # kubeadm's cgroupDriver is read: the runtime must agree


def test_a_typo_is_still_an_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(KUBEADM_CONFIG + "staticPodPth: /x\n")
    with pytest.raises(OptionsError, match='unknown field "staticPodPth": not a KubeletConfiguration'):
        load_config_file(str(config))
