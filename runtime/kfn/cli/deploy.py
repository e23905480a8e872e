"""`kfn manifests`, `kfn build`, `kfn deploy`: from the decorators to Knative.

    kfn manifests                      # write deploy/ (Knative resources, kustomization, Dockerfile)
    kfn build --image REF --push       # build (and push) the image with podman or docker
    kfn deploy --image REF             # generate and `kubectl apply` the resources

Only argparse is imported here; the generator, PyYAML and subprocess work are
imported when one of these commands runs, so `kfn run` never loads them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfn._errors import CommandError

if TYPE_CHECKING:
    from kfn.deploy.generate import Generation
    from kfn.deploy.settings import ProjectSettings

KUBECTL_TIMEOUT = "15s"
PRUNE_ALLOWLIST = (
    "serving.knative.dev/v1/Service",
    "eventing.knative.dev/v1/Trigger",
    "sources.knative.dev/v1/PingSource",
    "sources.knative.dev/v1/SinkBinding",
    "eventing.knative.dev/v1beta3/EventType",
)
RESOURCES_NEEDED = {
    "Service": ("services.serving.knative.dev", "Knative Serving"),
    "Trigger": ("triggers.eventing.knative.dev", "Knative Eventing"),
    "PingSource": ("pingsources.sources.knative.dev", "Knative Eventing"),
    "SinkBinding": ("sinkbindings.sources.knative.dev", "Knative Eventing"),
    "EventType": ("eventtypes.eventing.knative.dev", "Knative Eventing"),
}


def add_parser(subparsers: Any) -> None:
    manifests = subparsers.add_parser(
        "manifests",
        help="write the Knative resources for the app (deploy/ by default)",
        description="Generate the Knative Services, Triggers, PingSources, SinkBindings and "
        "EventTypes for the decorated functions, check them against Knative's webhook rules, "
        "and write them with a kustomization.yaml and the Dockerfile.",
    )
    _common(manifests)
    output = manifests.add_mutually_exclusive_group()
    output.add_argument("--output", help="folder to write (default: [tool.kfn] output, 'deploy')")
    output.add_argument(
        "--stdout", action="store_true", help="print the resources instead of writing files"
    )
    output.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the folder differs from what would be written",
    )
    manifests.set_defaults(handler=handle_manifests)

    build = subparsers.add_parser(
        "build",
        help="build the image with podman or docker, from wheels made on the host",
        description="Write deploy/Dockerfile, make the project and its dependencies into "
        "wheels for the base image's Python and platform, and build the image with podman "
        "or docker (whichever works) without network access in the build.",
    )
    _common(build)
    build.add_argument(
        "--engine", choices=("podman", "docker"), help="container engine (default: detect)"
    )
    build.add_argument(
        "--base-image",
        help="the image both stages start from; any with python3 (3.11+) on PATH "
        "(default: [tool.kfn] base-image, or python:<python-version>-slim)",
    )
    build.add_argument("--platform", help="target platform, e.g. linux/arm64")
    build.add_argument("--push", action="store_true", help="push the image after building it")
    build.add_argument(
        "--no-cache",
        action="store_true",
        help="build every layer anew, not from the engine's layer cache",
    )
    build.set_defaults(handler=handle_build)

    deploy = subparsers.add_parser(
        "deploy",
        help="generate the Knative resources and kubectl apply them",
        description="Generate the app's Knative resources for an image and apply them to "
        "the current kubectl context.",
    )
    _common(deploy)
    deploy.add_argument("--context", help="kubectl context (default: the current one)")
    deploy.add_argument(
        "--prune",
        action="store_true",
        help="also delete the app's resources that are no longer generated (kubectl --prune)",
    )
    deploy.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would be applied; needs neither kubectl nor a cluster",
    )
    deploy.set_defaults(handler=handle_deploy)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project", default=".", help="the project folder, with pyproject.toml (default: .)"
    )
    parser.add_argument("--image", help="image reference (default: [tool.kfn] image)")
    parser.add_argument("--namespace", help="namespace (default: [tool.kfn] namespace)")


# -- kfn manifests ---------------------------------------------------------------------


def handle_manifests(args: argparse.Namespace) -> int:
    from kfn.deploy import generate, render

    settings, generation = _generate(args)
    for line in generation.exposure:  # on stderr beside --stdout, which prints YAML only
        print(f"kfn: exposed: {line}", file=sys.stderr if args.stdout else sys.stdout)
    if args.stdout:
        sys.stdout.write(render.dump(generation.manifests))
        return 0
    directory = settings.project_dir / (args.output or settings.output)
    if args.check:
        changed = generate.differences(directory, generation.files)
        if changed:
            print(
                f"kfn: {_shown(directory)} is out of date ({', '.join(changed)}); "
                "run `kfn manifests`",
                file=sys.stderr,
            )
            return 1
        print(f"kfn: {_shown(directory)} is up to date")
        return 0
    written, kept = generate.write(directory, generation.files)
    for name in kept:
        print(f"kfn: kept {_shown(directory / name)}: it has no kfn header", file=sys.stderr)
    if written:
        print(f"kfn: wrote {', '.join(_shown(directory / n) for n in written)}")
    else:
        print(f"kfn: {_shown(directory)} is up to date")
    return 0


# -- kfn build -------------------------------------------------------------------------


def handle_build(args: argparse.Namespace) -> int:
    from kfn.deploy import requirements
    from kfn.deploy import settings as settings_module
    from kfn.deploy.errors import DeployError
    from kfn.image import BuildError
    from kfn.image.build import BuildRequest, build, write_dockerfile

    try:
        settings = settings_module.load(Path(args.project))
        needs = requirements.check(settings)
    except DeployError as error:
        raise CommandError(str(error)) from None
    for warning in needs:
        print(f"kfn: warning: {warning}", file=sys.stderr)
    image = args.image or settings.image
    if not image:
        raise CommandError("no image: pass --image REF, or set [tool.kfn] image in pyproject.toml")
    _check_image(image)
    if args.base_image:
        _check_image(args.base_image, "--base-image")
    request = BuildRequest(
        image=image,
        dockerfile=write_dockerfile(settings),
        engine=args.engine,
        base_image=args.base_image,
        platform=args.platform,
        push=args.push,
        cache=not args.no_cache,
    )
    try:
        build(settings, request)
    except BuildError as error:
        raise CommandError(str(error)) from None
    print(f"kfn: built {image}" + (" and pushed it" if args.push else ""))
    return 0


# -- kfn deploy ------------------------------------------------------------------------


def handle_deploy(args: argparse.Namespace) -> int:
    from kfn.deploy import render

    settings, generation = _generate(args)
    stream = render.dump(generation.manifests)
    if args.dry_run:
        print("# kfn deploy --dry-run: what `kubectl apply -f -` would get", file=sys.stderr)
        sys.stdout.write(stream)
        return 0
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise CommandError(
            "kubectl not found: install it (https://kubernetes.io/docs/tasks/tools/), or run "
            "`kfn manifests` and apply deploy/ your own way"
        )
    base = [kubectl] + (["--context", args.context] if args.context else [])
    _check_cluster(base, generation)
    command = [*base, "apply", "-f", "-"]
    if args.prune:
        selector = f"app.kubernetes.io/part-of={settings.name},app.kubernetes.io/managed-by=kfn"
        command += ["--prune", "-l", selector]
        for kind in PRUNE_ALLOWLIST:
            command += ["--prune-allowlist", kind]
    print("$ " + " ".join(["kubectl", *command[1:]]), file=sys.stderr)
    result = subprocess.run(command, input=stream, text=True)
    if result.returncode != 0:
        raise CommandError(f"kubectl apply failed (exit {result.returncode})")
    names = ", ".join(m["metadata"]["name"] for m in generation.manifests if m["kind"] == "Service")
    print(
        f"kfn: applied to namespace {settings.namespace}; "
        f"`kubectl get ksvc -n {settings.namespace}` shows {names} when ready"
    )
    return 0


def _check_cluster(base: list[str], generation: Generation) -> None:
    """Fail with a clear message when there is no cluster, or Knative is not installed."""

    command = [*base, "api-resources", "-o", "name", f"--request-timeout={KUBECTL_TIMEOUT}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise CommandError(
            "kubectl did not answer within 60 s: is the cluster reachable?"
        ) from None
    available = set(result.stdout.split())
    if not available:
        raise CommandError(
            "kubectl cannot reach a cluster ("
            + _last_line(result.stderr)
            + "); check `kubectl config current-context`, or use --dry-run"
        )
    kinds = {m["kind"] for m in generation.manifests}
    for kind in sorted(kinds):
        resource, product = RESOURCES_NEEDED[kind]
        if resource not in available:
            raise CommandError(
                f"the cluster has no {resource}: install {product} first "
                "(see the Deploy to Knative guide)"
            )


# -- shared ----------------------------------------------------------------------------


def _generate(args: argparse.Namespace) -> tuple[ProjectSettings, Generation]:
    from kfn.deploy import generate, requirements
    from kfn.deploy.errors import DeployError

    try:
        settings, registry = generate.load_project(Path(args.project))
        needs = requirements.check(settings)
        if args.namespace:
            _check_namespace(args.namespace)
            settings = replace(settings, namespace=args.namespace)
        if args.image:
            _check_image(args.image)
        generation = generate.generate(settings, registry, image=args.image)
    except DeployError as error:
        raise CommandError(str(error)) from None
    for warning in [*needs, *generation.warnings]:
        print(f"kfn: warning: {warning}", file=sys.stderr)
    return settings, generation


def _check_image(image: str, option: str = "--image") -> None:
    from kfn.deploy import formats

    if not formats.is_image_reference(image):
        raise CommandError(
            f"{option} {image!r} is not an image reference (e.g. registry.example.com/shop:1.0)"
        )


def _check_namespace(namespace: str) -> None:
    from kfn.deploy import formats

    if not formats.is_dns1123_label(namespace):
        raise CommandError(f"--namespace {namespace!r} is not a valid namespace name")


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
