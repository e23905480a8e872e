"""The one error type of the generator: a message the user can act on, naming what is wrong."""

from __future__ import annotations

from kfn._errors import DeployError

__all__ = ["DeployError"]
