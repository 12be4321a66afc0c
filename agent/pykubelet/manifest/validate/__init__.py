"""Validation of a defaulted Pod, in the API server's words: a package, its public names re-exported here."""

from pykubelet.manifest.validate.containers import API_VOLUMES, validate_identity, validate_pod

__all__ = ["API_VOLUMES", "validate_identity", "validate_pod"]
