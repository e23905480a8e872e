"""`kfn build`: the app's image, built by podman or docker from a wheelhouse made on the host.

- `engine`: find the container engine that works here, and the commands it runs;
- `python_platform`: the Python and platform of the base image, read by running it once;
- `context`: the build context: the project and its dependencies as wheels for that
  target, and the functions modules the project's wheel does not hold;
- `build`: the steps in order, one progress line each (also `kfn run --container`).

Only `kfn build` and `kfn run --container` import this package.
"""

from kfn.image.errors import BuildError

__all__ = ["BuildError"]
