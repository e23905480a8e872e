"""The container image: a multi-stage Dockerfile and its ignore file, generated from the settings.

The image runs `kfn run --host 0.0.0.0`; the host reads PORT (and KFN_FUNCTIONS,
KFN_SERVICE_UNIT...) from the environment, so one image serves every unit of the app.
Its promises are tested without a container engine (tests/deploy/test_container_contract.py):
the exact CMD, in a fresh environment built only from pyproject.toml, serves the probes
on $PORT and exits 0 on SIGTERM.
"""

from __future__ import annotations

import json
from pathlib import Path

from kfn.deploy.settings import Settings

DOCKERFILE = "Dockerfile"
IGNORE_FILE = "Dockerfile.dockerignore"
"""BuildKit reads `<Dockerfile>.dockerignore` next to the Dockerfile, so the ignore file
works with the project root as the build context while living in deploy/."""
USER_ID = 10001
COMMAND = ("kfn", "run", "--host", "0.0.0.0")
IGNORED = (
    ".git",
    ".venv",
    "venv",
    "**/__pycache__",
    "**/*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "build",
    "dist",
    "*.egg-info",
    "tests",
    "bench",
)


def sources(settings: Settings) -> list[str]:
    """What to copy into /app: the top-level package or module of each functions module."""
    paths: list[str] = []
    for module in settings.functions:
        top = module.split(".", 1)[0]
        path = f"{top}.py" if (settings.project_dir / f"{top}.py").is_file() else f"{top}/"
        if path not in paths:
            paths.append(path)
    return paths


def render(settings: Settings, generated_by: str) -> str:
    copies = "\n".join(f"COPY {path} ./{path}" for path in sources(settings))
    build_command = f"docker build -f {Path(settings.output, DOCKERFILE).as_posix()} -t IMAGE ."
    return f"""\
# syntax=docker/dockerfile:1
{generated_by}
# Build from the project root:  {build_command}
# The image runs `kfn run --host 0.0.0.0`, which serves on $PORT (Knative sets it; 8080 by default).

# -- build: a virtual environment with the project and its dependencies --------------------
FROM python:{settings.python_version}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The dependencies first, as pyproject.toml lists them: this layer is reused until they change.
COPY pyproject.toml ./
RUN python -c 'import tomllib; print("\\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"].get("dependencies", [])))' > requirements.txt \\
    && if [ -s requirements.txt ]; then pip install -r requirements.txt; fi
COPY . .
RUN pip install --no-deps .

# -- run: the slim base, the environment and the functions, as a non-root user -------------
FROM python:{settings.python_version}-slim
ENV PATH=/opt/venv/bin:$PATH \\
    PYTHONUNBUFFERED=1 \\
    PYTHONDONTWRITEBYTECODE=1 \\
    HOME=/tmp
RUN groupadd --system --gid {USER_ID} kfn \\
    && useradd --system --uid {USER_ID} --gid kfn --home-dir /tmp --no-create-home --shell /usr/sbin/nologin kfn
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
{copies}
# Bytecode now: Knative runs the container with a read-only root filesystem, so Python
# could not cache it and would compile every module again on each cold start.
RUN python -m compileall -q -f -j 0 --invalidation-mode unchecked-hash /opt/venv /app
# A numeric user, so that Kubernetes can check runAsNonRoot.
USER {USER_ID}:{USER_ID}
EXPOSE 8080
CMD {json.dumps(list(COMMAND))}
"""


def render_ignore(generated_by: str) -> str:
    lines = "\n".join(IGNORED)
    return f"""\
{generated_by}
# The build context is the project root; the image needs pyproject.toml, the package and
# the functions, so everything else stays out of it.
{lines}
"""
