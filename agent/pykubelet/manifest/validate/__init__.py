"""Validation of a defaulted Pod, in the API server's words (``pkg/apis/core/validation/validation.go``).

People who run kubelets know ``spec.containers[0].image: Required value``, so errors use the same paths,
kinds and sentences. All errors are collected, so one edit can fix a file. A manifest is untrusted input:
a string where a list belongs is reported at its path (``must be a list``), never a crash.

The checks are tables: every object type is a tuple of fields (key, JSON kind, check), walked by one
function. The package is cut as ``validation.go`` reads:

- :mod:`.walker`: the field tables and the combinators that walk them; :mod:`.checks`: scalar checks;
  :mod:`.names`: name formats and their error texts (``k8s.io/apimachinery/pkg/util/validation``);
- :mod:`.metadata`; :mod:`.containers` (ports, mounts, security, the two lists) with :mod:`.env`,
  :mod:`.resources` and :mod:`.probes` (probes and lifecycle hooks); :mod:`.volumes`;
- :mod:`.pod`: the pod-level spec rules, :func:`validate_pod` and :func:`validate_identity`.

Two rules are pykubelet's own, because it runs static pods without an API server: anything that names an
API object (ConfigMap, Secret, PersistentVolumeClaim, ...) is Forbidden, as in kubelets
with ``PreventStaticPodAPIReferences``; and volume types other than emptyDir and hostPath are Unsupported.
"""

from pykubelet.manifest.validate.pod import validate_identity, validate_pod
from pykubelet.manifest.validate.volumes import API_VOLUMES

__all__ = ["API_VOLUMES", "validate_identity", "validate_pod"]
