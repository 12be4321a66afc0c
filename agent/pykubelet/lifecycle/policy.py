"""restartPolicy: whether a container that exited runs again (``ShouldContainerBeRestarted``)."""

from __future__ import annotations


def should_restart(policy: str, exit_code: int) -> bool:
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0
    return True
