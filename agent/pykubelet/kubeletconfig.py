"""The ``--config`` file as a document: a KubeletConfiguration (v1beta1) and the fields pykubelet ignores.

options.py maps the fields pykubelet reads onto :class:`~pykubelet.options.Options`; what is here is
what the kubelet's own decoder decides before any field is read (the file is YAML, a mapping, and
``apiVersion``/``kind`` name a v1beta1 KubeletConfiguration), and the list of the *other*
KubeletConfiguration fields. That list is long and changes with each Kubernetes release, unlike
pykubelet's own options, so it lives apart from them: a new kubelet field is one word added here.

It imports nothing from options.py (which imports this module), so its errors are
:class:`ConfigFileError`, which the loader in options.py re-raises as an ``OptionsError``.
"""

from __future__ import annotations

from typing import Any

import yaml

API_VERSION = "kubelet.config.k8s.io/v1beta1"
KIND = "KubeletConfiguration"

# Every KubeletConfiguration (v1beta1) field pykubelet does not read: a kubeadm node's
# /var/lib/kubelet/config.yaml sets several (clusterDNS, cgroupRoot, authentication, ...). pykubelet has
# no use for them: they are logged once and ignored, so that file starts pykubelet; a name neither here
# nor among the options' config keys is a typo and an error.
_UNUSED_NAMES = """
    enableServer port tlsCertFile tlsPrivateKeyFile tlsCipherSuites tlsCurvePreferences tlsMinVersion
    rotateCertificates serverTLSBootstrap authentication authorization registryPullQPS registryBurst
    imagePullCredentialsVerificationPolicy preloadedImagesVerificationAllowlist eventRecordQPS eventBurst
    enableDebuggingHandlers enableContentionProfiling healthzPort healthzBindAddress oomScoreAdj
    clusterDomain clusterDNS streamingConnectionIdleTimeout nodeStatusUpdateFrequency
    nodeStatusReportFrequency nodeLeaseDurationSeconds imageMinimumGCAge imageMaximumGCAge
    imageGCHighThresholdPercent imageGCLowThresholdPercent volumeStatsAggPeriod kubeletCgroups
    systemCgroups cgroupRoot cgroupsPerQOS cpuManagerPolicy singleProcessOOMKill
    cpuManagerPolicyOptions cpuManagerReconcilePeriod draManagerReconcilePeriod memoryManagerPolicy
    topologyManagerPolicy topologyManagerScope topologyManagerPolicyOptions qosReserved
    runtimeRequestTimeout hairpinMode maxPods podCIDR podPidsLimit resolvConf runOnce cpuCFSQuota
    cpuCFSQuotaPeriod nodeStatusMaxImages maxOpenFiles contentType kubeAPIQPS kubeAPIBurst
    serializeImagePulls maxParallelImagePulls evictionHard evictionSoft evictionSoftGracePeriod
    evictionPressureTransitionPeriod evictionMaxPodGracePeriod evictionMinimumReclaim
    mergeDefaultEvictionSettings podsPerCore enableControllerAttachDetach protectKernelDefaults
    makeIPTablesUtilChains iptablesMasqueradeBit iptablesDropBit featureGates failSwapOn memorySwap
    containerLogMaxSize containerLogMaxFiles containerLogMaxWorkers containerLogMonitorInterval
    configMapAndSecretChangeDetectionStrategy systemReserved kubeReserved reservedSystemCPUs
    showHiddenMetricsForVersion systemReservedCgroup kubeReservedCgroup enforceNodeAllocatable
    allowedUnsafeSysctls volumePluginDir providerID kernelMemcgNotification logging
    enableSystemLogHandler enableSystemLogQuery shutdownGracePeriod shutdownGracePeriodCriticalPods
    shutdownGracePeriodByPodPriority crashLoopBackOff reservedMemory enableProfilingHandler
    enableDebugFlagsHandler seccompDefault memoryThrottlingFactor memoryReservationPolicy
    registerWithTaints registerNode tracing localStorageCapacityIsolation imageServiceEndpoint
    failCgroupV1 userNamespaces
"""
UNUSED_CONFIG_FIELDS = frozenset(_UNUSED_NAMES.split())


class ConfigFileError(Exception):
    """The file cannot be a KubeletConfiguration; the message names the file and what to change."""


def read_document(path: str) -> dict[str, Any]:
    """The file's fields (``apiVersion`` and ``kind`` checked and left out), as the kubelet's decoder
    accepts them: YAML, a mapping, ``kubelet.config.k8s.io/v1beta1`` ``KubeletConfiguration``."""
    try:
        with open(path, "rb") as fh:
            document = yaml.safe_load(fh) or {}
    except OSError as exc:
        raise ConfigFileError(f"--config {path}: cannot read the file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigFileError(f"--config {path}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ConfigFileError(f"--config {path}: expected a {KIND} mapping, got {type(document).__name__}")
    for field, expected in (("apiVersion", API_VERSION), ("kind", KIND)):
        value = document.get(field)
        if value is None:
            raise ConfigFileError(f"--config {path}: {field}: Required value: add {field}: {expected}")
        if value != expected:
            raise ConfigFileError(f'--config {path}: {field}: Invalid value: "{value}": expected {expected}')
    return {key: value for key, value in document.items() if key not in ("apiVersion", "kind")}
