"""/etc/hosts and /etc/resolv.conf as the kubelet makes them (``kubelet_pods.go`` ``ensureHostsFile``,
``network/dns/dns.go`` ``GetPodDNS``): one file each under the pod directory, bind-mounted into every
container, hostAliases in the kubelet's block, dnsPolicy on a kubelet without cluster DNS.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pykubelet.events import Recorder
from pykubelet.runtime import configs
from pykubelet.runtime.fake import FakeRuntime
from pykubelet.runtime.manager import RuntimeManager
from tests.unit.conftest import make_pod

HOST_RESOLV = (
    "# the host's\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch lab.example\noptions ndots:2\n"
)
ALIASES = [
    {"ip": "192.0.2.10", "hostnames": ["foo.local", "bar.local"]},
    {"ip": "192.0.2.11", "hostnames": ["x"]},
]


def test_the_managed_hosts_file() -> None:
    pod = make_pod(hostAliases=ALIASES)
    assert configs.hosts_file(pod, "172.17.0.5", "ignored") == (
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n"
        "172.17.0.5\tweb-node-a\n"
        "\n"
        "# Entries added by HostAliases.\n"
        "192.0.2.10\tfoo.local\tbar.local\n"
        "192.0.2.11\tx\n"
    )


def test_a_host_network_pod_gets_the_nodes_hosts_file() -> None:
    pod = make_pod(hostNetwork=True, hostAliases=ALIASES[1:])
    assert configs.hosts_file(pod, "10.0.0.1", "127.0.0.1 localhost\n") == (
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n"
        "\n# Entries added by HostAliases.\n192.0.2.11\tx\n"
    )


def test_dns_policies_without_cluster_dns() -> None:
    default = configs.pod_dns({"dnsPolicy": "Default"}, HOST_RESOLV)
    assert default.resolv_conf() == (
        "nameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch lab.example\noptions ndots:2\n"
    )
    assert not default.missing_cluster_dns
    cluster_first = configs.pod_dns({"dnsPolicy": "ClusterFirst"}, HOST_RESOLV)
    assert cluster_first.missing_cluster_dns and cluster_first.resolv_conf() == default.resolv_conf()
    assert not configs.pod_dns(
        {"dnsPolicy": "ClusterFirst", "hostNetwork": True}, HOST_RESOLV
    ).missing_cluster_dns
    assert configs.pod_dns({"dnsPolicy": "ClusterFirstWithHostNet"}, HOST_RESOLV).missing_cluster_dns
    none = configs.pod_dns(
        {
            "dnsPolicy": "None",
            "dnsConfig": {
                "nameservers": ["1.2.3.4", "1.2.3.4"],
                "searches": ["a.example"],
                "options": [{"name": "ndots", "value": "5"}, {"name": "edns0"}],
            },
        },
        HOST_RESOLV,
    )
    assert none.resolv_conf() == "nameserver 1.2.3.4\nsearch a.example\noptions ndots:5 edns0\n"
    merged = configs.pod_dns(
        {
            "dnsPolicy": "Default",
            "dnsConfig": {
                "nameservers": ["5.5.5.5", "6.6.6.6"],
                "options": [{"name": "ndots", "value": "1"}],
            },
        },
        HOST_RESOLV,
    )
    assert merged.servers == ("192.0.2.53", "192.0.2.54", "5.5.5.5")  # at most three
    assert merged.options == ("ndots:1",)  # the pod's option wins


async def test_every_container_gets_the_pods_files_and_the_missing_cluster_dns_event(
    fake: FakeRuntime, manager: RuntimeManager, recorder: Recorder, tmp_path: Path
) -> None:
    (tmp_path / "resolv.conf").write_text(HOST_RESOLV)
    manager.settings = dataclasses.replace(manager.settings, resolv_conf=str(tmp_path / "resolv.conf"))
    pod = make_pod(hostAliases=ALIASES)
    await manager.sync_pod(pod)
    ((_, config),) = fake.args("create_container")
    mounts = {m.container_path: m.host_path for m in config.mounts}
    pod_dir = tmp_path / "root" / "pods" / pod.uid
    assert mounts["/etc/hosts"] == str(pod_dir / "etc-hosts")
    assert mounts["/etc/resolv.conf"] == str(pod_dir / "resolv.conf")
    sandbox = fake.find("POD")
    assert f"{sandbox.ip}\tweb-node-a\n" in (pod_dir / "etc-hosts").read_text()
    assert (pod_dir / "resolv.conf").read_text().startswith("nameserver 192.0.2.53\n")
    (event,) = [e for e in recorder.list() if e["reason"] == "MissingClusterDNS"]
    assert event["type"] == "Warning"
    assert event["message"] == (
        f'pod: "{pod.name}_default({pod.uid})". kubelet does not have ClusterDNS IP configured and cannot '
        'create Pod using "ClusterFirst" policy. Falling back to "Default" policy.'
    )
    (sandbox_config,) = fake.args("run_pod_sandbox")[0]
    assert sandbox_config.dns_servers == ("192.0.2.53", "192.0.2.54")


async def test_a_container_mounting_etc_hosts_itself_keeps_its_own(
    fake: FakeRuntime, manager: RuntimeManager
) -> None:
    pod = make_pod(
        containers=[
            {
                "name": "app",
                "image": "busybox:1.35",
                "volumeMounts": [{"name": "h", "mountPath": "/etc/hosts"}],
            }
        ],
        volumes=[{"name": "h", "hostPath": {"path": "/etc/hosts", "type": "File"}}],
    )
    await manager.sync_pod(pod)
    ((_, config),) = fake.args("create_container")
    assert [m.host_path for m in config.mounts if m.container_path == "/etc/hosts"] == ["/etc/hosts"]
