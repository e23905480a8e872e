"""The one error of `kfn build`: a message for the user, naming what to install or fix."""

from __future__ import annotations

from kfn._errors import BuildError

__all__ = ["BuildError"]
