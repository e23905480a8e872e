"""The one error type of the generator: a message the user can act on, naming what is wrong."""

from __future__ import annotations


class DeployError(Exception):
    """Settings, functions or generated resources that cannot be deployed; the message says why."""
