"""The steps of `kfn build`, in order, one progress line each; and running the result.

    engine -> base image's target -> project wheel -> dependency wheels -> image -> push

The build context lives in a temporary folder and is removed afterwards: the
engine's layer cache keeps what is worth keeping, pip's cache the downloads.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kfn.deploy.dockerfile import USER_ID
from kfn.deploy.settings import ProjectSettings
from kfn.image import context, python_platform
from kfn.image import engine as engines
from kfn.image.engine import Engine
from kfn.image.errors import BuildError

Report = Callable[[str], None]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_TIMEOUT = 30  # seconds between SIGTERM and SIGKILL, Kubernetes' default grace period


def report_to_stderr(line: str) -> None:
    print(f"kfn: {line}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class BuildRequest:
    """What `kfn build` was asked for; None leaves the setting's or the engine's default."""

    image: str
    dockerfile: Path
    engine: str | None = None
    base_image: str | None = None
    platform: str | None = None
    push: bool = False
    cache: bool = True  # False: every layer built anew (`kfn build --no-cache`)


def write_dockerfile(settings: ProjectSettings, report: Report = report_to_stderr) -> Path:
    """deploy/Dockerfile as the settings make it, unless the user's own replaced it."""
    from kfn.deploy import generate
    from kfn.deploy.dockerfile import DOCKERFILE

    directory = settings.project_dir / settings.output
    written, kept = generate.write(directory, generate.image_files(settings), prune=False)
    path = directory / DOCKERFILE
    if kept:
        report(f"using the hand-written {path} (it has no kfn header)")
    elif written:
        report(f"wrote {path}")
    return path


def source_date_epoch() -> int:
    """The date of every file in the image: $SOURCE_DATE_EPOCH, or 0 (1970-01-01)."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "0")
    if not raw.isdigit():
        raise BuildError(f"SOURCE_DATE_EPOCH={raw!r} is not a number of seconds")
    return int(raw)


def build(
    settings: ProjectSettings, request: BuildRequest, report: Report = report_to_stderr
) -> Engine:
    """Build (and push) the image; the engine that did it."""
    total = 6 if request.push else 5
    step = iter(range(1, total + 1))

    def progress(line: str) -> None:
        report(f"[{next(step)}/{total}] {line}")

    engine = engines.find(request.engine)
    progress(f"container engine: {engine.name}")
    base = request.base_image or settings.base
    platform = request.platform
    found = python_platform.probe(engine, base, platform)
    progress(f"base image {base}: {found.label()}")
    epoch = source_date_epoch()
    with tempfile.TemporaryDirectory(prefix="kfn-build-") as scratch:
        directory = Path(scratch)
        prepare(settings, engine, base, platform, found, directory, epoch, progress)
        command = engine.build(
            dockerfile=request.dockerfile.resolve(),
            context=directory,
            image=request.image,
            build_args={"BASE_IMAGE": base},
            platform=platform,
            epoch=epoch,
            cache=request.cache,
        )
        progress(f"building {request.image}: " + " ".join(command))
        code = subprocess.call(command)
        if code != 0:
            raise BuildError(f"`{engine.name} build` failed (exit {code}); its output is above")
    if request.push:
        command = engine.push(request.image)
        progress(f"pushing {request.image}: " + " ".join(command))
        code = subprocess.call(command)
        if code != 0:
            raise BuildError(f"`{engine.name} push` failed (exit {code}); its output is above")
    return engine


def prepare(
    settings: ProjectSettings,
    engine: Engine,
    base: str,
    platform: str | None,
    found: python_platform.PythonPlatform,
    directory: Path,
    epoch: int,
    progress: Report,
) -> None:
    """Fill `directory` with the build context for `found` (see kfn.image.context)."""
    project_dir = settings.project_dir.resolve()
    progress(f"building the wheel of the project in {project_dir}")
    project = context.build_wheel(
        project_dir,
        directory / "project" / "wheels",
        epoch=epoch,
        what="the project",
        skip=[Path(settings.output).parts[0]],
    )
    deps = directory / "deps" / "wheels"
    deps.mkdir(parents=True)
    requirements = project.requirements(settings.extras)
    wanted: list[str] = []  # for pip download: requirements, local wheels as files
    installed: list[str] = []  # for pip install in the image: local ones by name only
    for requirement in requirements:
        name = context.requirement_name(requirement)
        source = context.local_source(name)
        if source is None or name == context.canonical(project.name):
            wanted.append(requirement)
            installed.append(requirement)
            continue
        if source.suffix == ".whl":
            shutil.copyfile(source, deps / source.name)
            local = context.read_wheel(deps / source.name)
        else:
            local = context.build_wheel(source, deps, epoch=epoch, what=f"{name} from {source}")
        wanted.append(str(local.path))
        installed.append(name + requirement[len(requirement.split(";")[0]) :])
    progress(
        f"downloading {project.name}'s {len(requirements)} requirements and their "
        f"dependencies as wheels for {found.label()}"
    )
    context.download(wanted, found, deps, epoch=epoch)
    context.download_pip(directory / "pip", epoch=epoch)
    context.write_lines(directory / "deps" / "requirements.txt", installed)
    complete(engine, base, platform, found, directory, epoch)
    context.write_lines(
        directory / "project" / "requirements.txt", [f"{project.name}=={project.version}"]
    )
    app = directory / "app"
    app.mkdir()
    for source in context.app_sources(project_dir, settings.functions, project):
        context.copy_sources(source, app / source.name)
    context.settle(directory, epoch)


MISSING = re.compile(r"No matching distribution found for (\S+)")
COMPLETION_ROUNDS = 10


def complete(
    engine: Engine,
    base: str,
    platform: str | None,
    found: python_platform.PythonPlatform,
    directory: Path,
    epoch: int,
) -> None:
    """Download what only the target's interpreter asks for, until its pip finds everything.

    pip on the host evaluates environment markers for the host's Python: a dependency
    for `python_full_version < "3.11.3"` is skipped on 3.11.7 but needed on 3.11.2. So
    the base image's own pip resolves the requirements against the wheelhouse (no
    network, nothing installed) and names what is missing.
    """
    check = engine.run(
        base,
        options=["--network", "none", "--volume", f"{directory}:/install:ro"],
        platform=platform,
        entrypoint="python3",
        arguments=[
            "/install/pip/pip.whl/pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            "/tmp/kfn-check",
            "--find-links",
            "/install/deps/wheels",
            "--requirement",
            "/install/deps/requirements.txt",
        ],
    )
    for _ in range(COMPLETION_ROUNDS):
        result = subprocess.run(check, capture_output=True, text=True, timeout=300)
        if result.returncode == 0:
            return
        missing = MISSING.findall(result.stderr + result.stdout)
        if not missing:
            raise BuildError(
                f"the base image's pip cannot install the wheelhouse: "
                f"{context.pip_errors(result.stderr + result.stdout)}"
            )
        context.download(missing, found, directory / "deps" / "wheels", epoch=epoch)
    raise BuildError(f"the wheelhouse is still incomplete after {COMPLETION_ROUNDS} rounds")


def run(
    engine: Engine,
    image: str,
    *,
    port: int,
    name: str,
    environment: Mapping[str, str] = {},
    options: Sequence[str] = (),
) -> int:
    """Run the image as Knative would (read-only root, numeric non-root user, $PORT).

    Ctrl-C or SIGTERM stops the container the way the kubelet does (SIGTERM, then the
    grace period), so it never outlives the command; the container's exit code is returned.
    """
    flags = ["--name", name, "--read-only", "--tmpfs", "/tmp", "--user", f"{USER_ID}:{USER_ID}"]
    flags += ["--env", f"PORT={port}"]
    for key, value in environment.items():
        flags += ["--env", f"{key}={value}"]
    command = engine.run(image, options=[*flags, *options])
    report_to_stderr("$ " + " ".join(command))
    process = subprocess.Popen(command)
    # Both signals stop the container, even where SIGINT came in ignored (a shell's
    # background job) and Python therefore installed no KeyboardInterrupt for it.
    previous = {number: signal.signal(number, _interrupt) for number in STOP_SIGNALS}
    try:
        return process.wait()
    except KeyboardInterrupt:
        subprocess.run(engine.stop(name, STOP_TIMEOUT), capture_output=True)
        return process.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def build_and_run(
    project_dir: Path,
    *,
    port: int,
    engine: str | None = None,
    environment: Mapping[str, str] = {},
) -> int:
    """`kfn run --container`: build the project's image for this machine, then run it."""
    from kfn.deploy import settings as settings_module

    settings = settings_module.load(project_dir)
    image = f"localhost/{settings.name}:dev"
    request = BuildRequest(image=image, dockerfile=write_dockerfile(settings), engine=engine)
    used = build(settings, request)
    report_to_stderr(f"running {image} on http://127.0.0.1:{port} (Ctrl-C stops it)")
    return run(
        used,
        image,
        port=port,
        name=f"kfn-run-{settings.name}-{os.getpid()}",
        environment=environment,
        options=["--publish", f"127.0.0.1:{port}:{port}"],
    )
