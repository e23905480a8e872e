"""The container image's Dockerfile, generated from the settings.

`kfn build` prepares the build context (kfn.image.context): the project and every
dependency as wheels for the base image's Python and platform, and the functions
modules the project's wheel does not hold. The Dockerfile only installs from there with
`pip install --no-index`, so the build needs no network and any base image with
`python3` on PATH works. Every instruction is in exec form and the final stage runs
nothing, so neither stage needs a shell.
"""

from __future__ import annotations

import json

from kfn.deploy.settings import ProjectSettings

DOCKERFILE = "Dockerfile"
USER_ID = 10001
COMMAND = ("kfn", "run", "--host", "0.0.0.0")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""Docker's default PATH, set in both stages: an imported base image may carry none."""
VENV = "/opt/venv"
APP = "/app"
PIP = "/install/pip/pip.whl/pip"
"""pip runs from its wheel (pip supports it), so the image gets no pip of its own."""
PIP_INSTALL = (
    f"{VENV}/bin/python",
    PIP,
    "install",
    "--no-index",
    "--no-cache-dir",
    "--no-compile",
    "--disable-pip-version-check",
    "--root-user-action",
    "ignore",
)
COMPILE = (
    f"{VENV}/bin/python",
    "-m",
    "compileall",
    "-q",
    "-j",
    "0",
    "--invalidation-mode",
    "unchecked-hash",
    VENV,
    APP,
)


def _exec(*argv: str, width: int = 92) -> str:
    """An exec-form argument list, wrapped with continuation lines past `width` columns."""
    lines, line = [], ""
    for word in (json.dumps(arg) for arg in argv):
        if line and len(line) + len(word) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {word}" if line else word
    lines.append(line)
    return "[" + " \\\n     ".join(lines) + "]"


def render(settings: ProjectSettings, generated_by: str) -> str:
    functions = ",".join(settings.functions)
    return f"""\
# syntax=docker/dockerfile:1
{generated_by}
# Built by `kfn build` (`kfn build --help`), which prepares the context this file installs
# from: pip/ (pip's wheel), deps/ and project/ (wheels and requirements), app/ (the
# functions modules the project's wheel does not hold).
# The image runs `kfn run --host 0.0.0.0`, which serves on $PORT (Knative sets it; 8080 by default).
ARG BASE_IMAGE={settings.base}

# -- build: a virtual environment installed offline from the wheelhouse -------------------
FROM ${{BASE_IMAGE}} AS build
ENV PATH={SYSTEM_PATH}
COPY pip/ /install/pip/
RUN {_exec("python3", "-m", "venv", "--without-pip", VENV)}
# The dependencies first: this layer is reused until they change.
COPY deps/ /install/deps/
RUN {_exec(*PIP_INSTALL, "--find-links", "/install/deps/wheels", "--requirement", "/install/deps/requirements.txt")}
COPY project/ /install/project/
RUN {_exec(*PIP_INSTALL, "--no-deps", "--find-links", "/install/project/wheels", "--requirement", "/install/project/requirements.txt")}
COPY app/ {APP}/
# Bytecode now: Knative runs the container with a read-only root filesystem, so Python
# could not cache it. Hash-based .pyc files are the same bytes on every build.
RUN {_exec(*COMPILE)}

# -- run: the environment and the functions, as a numeric non-root user --------------------
FROM ${{BASE_IMAGE}}
ENV PATH={VENV}/bin:{SYSTEM_PATH} \\
    PYTHONUNBUFFERED=1 \\
    PYTHONDONTWRITEBYTECODE=1 \\
    HOME=/tmp \\
    KFN_FUNCTIONS={functions}
COPY --from=build {VENV} {VENV}
COPY --from=build {APP} {APP}
WORKDIR {APP}
# Numeric, so that Kubernetes can check runAsNonRoot.
USER {USER_ID}:{USER_ID}
EXPOSE 8080
CMD {_exec(*COMMAND)}
"""
