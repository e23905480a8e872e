"""Mutation testing of the modules that carry the delivery contract, bounded in time.

    make mutate                      # or: python3 mutation/run.py --minutes 25

Each run copies the tracked files to .mutate/tree (never the working tree: cosmic-ray
mutates files in place), keeps a virtual environment in .mutate/venv with the dev
extra and cosmic-ray, and runs one cosmic-ray session per group below, each with the
tests that guard it and its share of the time. A first run of those tests under coverage
maps every line to the test files that reach it (mutation/contexts.py), so each mutant
runs only those files; a mutant on a line no test reaches survives without a run, and
mutants inside type annotations (never evaluated: the modules use postponed
annotations) are not generated at all. The mutants of the status-code and
acknowledgement paths (FOCUS) all run first; the other mutants of a group are then
sampled in a fixed random order until its time is up. The score and every surviving
mutant, with its diff, are written to mutation/RESULTS.md.

The result is information, not a gate: CI does not run this.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".mutate"
TREE = WORK / "tree"
VENV = WORK / "venv"
COSMIC_RAY = "cosmic-ray==8.4.6"
PYTEST = "python -m pytest -x -q -p no:cacheprovider"
CONTEXT_PTH = (
    "import os; os.environ.get('KFN_MUTATE_TEST') and __import__('coverage').Coverage.current()"
    " and __import__('coverage').Coverage.current().switch_context(os.environ['KFN_MUTATE_TEST'])\n"
)
"""Started by coverage's own .pth, a `kfn run` process labels its lines with its test's file."""


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    share: float
    """Its part of the whole time."""
    timeout: float
    """Seconds one test run may take before the mutant counts as killed (it hung)."""


GROUPS = (
    Group(
        "events, routing, dispatch, replies, lifecycle",
        (
            "runtime/kfn/_events.py",
            "runtime/kfn/_body.py",
            "runtime/kfn/_backpressure.py",
            "runtime/kfn/_probes.py",
            "runtime/kfn/_inflight.py",
            "runtime/kfn/routing.py",
            "runtime/kfn/dispatch.py",
            "runtime/kfn/replies.py",
            "runtime/kfn/problems.py",
            "runtime/kfn/lifecycle.py",
            "runtime/kfn/_sync_pool.py",
            "runtime/kfn/_protocol.py",
            "runtime/kfn/_route_index.py",
        ),
        (
            "tests/integration",
            "tests/events",
            "tests/idempotency",
            "tests/observe",
            "tests/unit",
        ),
        0.6,
        120,
    ),
    Group(
        "codec, filters, cesql",
        ("runtime/kfn/codec", "runtime/kfn/filters.py", "runtime/kfn/_cesql"),
        (
            "tests/unit",
            "tests/filters",
            "tests/cesql/test_cesql_syntax.py",
            "tests/cesql/test_cesql_evaluation.py",
        ),
        0.4,
        60,
    ),
)

FOCUS = {
    # The functions that decide a status code or whether an event is acknowledged.
    "runtime/kfn/_events.py": {"__call__", "answer_error", "_answer"},
    "runtime/kfn/_body.py": {"read_body"},
    "runtime/kfn/_backpressure.py": {"check"},
    "runtime/kfn/_probes.py": {"readiness", "unready_reason"},
    "runtime/kfn/routing.py": {"targets", "route"},
    "runtime/kfn/dispatch.py": {"deliver", "call", "_call"},
    "runtime/kfn/replies.py": {"build_reply"},
    "runtime/kfn/problems.py": {"status_of", "is_retried", "of", "headers"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=25.0, help="the whole time budget")
    parser.add_argument("--seed", type=int, default=17, help="the order of the sampled mutants")
    parser.add_argument("--output", type=Path, default=ROOT / "mutation" / "RESULTS.md")
    args = parser.parse_args()
    started = time.monotonic()
    copy_tree()
    python = venv()
    report = []
    for group in GROUPS:
        budget = args.minutes * 60 * group.share
        print(f"mutate: {group.name}: {budget / 60:.1f} min", flush=True)
        report.append(run_group(python, group, budget, args.seed))
    write_results(args.output, report, time.monotonic() - started)
    print(f"mutate: results in {args.output}", flush=True)
    return 0


def copy_tree() -> None:
    """The tracked files (as they are now, edits included) into .mutate/tree."""
    if TREE.exists():
        shutil.rmtree(TREE)
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        path = raw.decode()
        source = ROOT / path
        if source.is_file():
            (TREE / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, TREE / path)


def venv() -> Path:
    """.mutate/venv with the tree installed editable and cosmic-ray; reused while it fits."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = (ROOT / "pyproject.toml").read_text() + COSMIC_RAY
    if not (stamp.exists() and stamp.read_text() == wanted):
        print("mutate: setting up .mutate/venv (dev extra and cosmic-ray)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-e", f"{TREE}[dev]", COSMIC_RAY], check=True)
        stamp.write_text(wanted)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(purelib) / "zz_kfn_mutate_context.pth").write_text(CONTEXT_PTH)
    return python  # the editable install points at the tree, copied afresh each run


def run_group(python: Path, group: Group, budget: float, seed: int) -> dict[str, object]:
    """cosmic-ray lists the group's mutants; each runs alone, until the budget is spent."""
    slug = group.name.split(",")[0].strip()
    config, session = WORK / f"{slug}.toml", WORK / f"{slug}.sqlite"
    session.unlink(missing_ok=True)
    command = f"{PYTEST} {' '.join(group.tests)}"
    modules = ", ".join(json.dumps(m) for m in group.modules)
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = [{modules}]\n"
        f"timeout = {group.timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    cosmic_ray = str(python.parent / "cosmic-ray")  # init lists the mutants into the session
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("CI", None)
    subprocess.run([cosmic_ray, "init", str(config), str(session)], cwd=TREE, env=env, check=True)
    listed = subprocess.run(
        [str(python), __file__, "--list", str(session), str(seed)],
        cwd=TREE, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    mutants = [json.loads(line) for line in listed.splitlines()]
    reached = map_tests(python, group, env, slug)
    originals = {m["module_path"]: (TREE / m["module_path"]).read_text() for m in mutants}
    deadline = time.monotonic() + budget
    results = []
    for mutant in mutants:
        if time.monotonic() > deadline:
            break
        files = tests_reaching(reached, mutant)
        if files == []:  # no test runs this line: nothing can kill the mutant
            results.append((mutant, {"worker_outcome": "normal", "test_outcome": "survived",
                                     "diff": "(no test of the group reaches this line)"}))  # fmt: skip
            print(f"mutate: {mutant['where']} survived (unreached)", flush=True)
            continue
        selected = f"{PYTEST} {' '.join(files)}" if files else command
        argv = [str(python), __file__, "--one", json.dumps(mutant), selected]
        process = subprocess.Popen(
            argv, cwd=TREE, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, start_new_session=True,
        )  # fmt: skip
        try:
            out, _ = process.communicate(timeout=group.timeout)
            result = json.loads(out) if out.strip() else {"worker_outcome": "exception"}
        except subprocess.TimeoutExpired:  # it hung: killed, with the servers it started
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            result = {"worker_outcome": "normal", "test_outcome": "killed", "hung": True}
        # A killed worker cannot put the file back: every mutant starts from the original.
        path = TREE / mutant["module_path"]
        if path.read_text() != originals[mutant["module_path"]]:
            path.write_text(originals[mutant["module_path"]])
        results.append((mutant, result))
        print(f"mutate: {mutant['where']} {result.get('test_outcome')}", flush=True)
    return {"group": group, "total": len(mutants), "results": results}


def map_tests(
    python: Path, group: Group, env: dict[str, str], slug: str
) -> dict[str, dict[int, set[str]]]:
    """Run the group's tests once under coverage: per module and line, the test files that reach it."""
    data_file = WORK / f"{slug}.coverage"
    for old in WORK.glob(f"{slug}.coverage*"):
        old.unlink()
    print(f"mutate: {group.name}: mapping lines to tests...", flush=True)
    coverage = [str(python), "-m", "coverage"]
    run = [*coverage, "run", f"--data-file={data_file}", "-m", "pytest", "-q"]
    run += ["-p", "no:cacheprovider", "-p", "mutation.contexts", *group.tests]
    with (WORK / f"{slug}-map.log").open("w") as log:
        mapped = subprocess.run(run, cwd=TREE, env=env, check=False, stdout=log, stderr=log)
    if mapped.returncode != 0:  # a map with a failed test would call mutants unreached
        sys.exit(
            f"mutate: the tests of {group.name} fail unmutated (exit {mapped.returncode}); "
            f"see {log.name}"
        )
    subprocess.run([*coverage, "combine", "--quiet", f"--data-file={data_file}"], cwd=TREE,
                   env=env, check=False)  # fmt: skip
    script = (
        "import json, sys\n"
        "from coverage import CoverageData\n"
        "data = CoverageData(basename=sys.argv[1]); data.read()\n"
        "print(json.dumps({f: data.contexts_by_lineno(f) for f in data.measured_files()}))\n"
    )
    out = subprocess.run([str(python), "-c", script, str(data_file)], cwd=TREE, env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    reached: dict[str, dict[int, set[str]]] = {}
    for filename, lines in json.loads(out).items():
        module = os.path.relpath(filename, TREE)
        reached[module] = {int(line): set(contexts) for line, contexts in lines.items()}
    return reached


def tests_reaching(
    reached: dict[str, dict[int, set[str]]], mutant: dict[str, Any]
) -> list[str] | None:
    """The test files that run the mutated lines; [] if none does, None if unknown (all)."""
    lines = reached.get(mutant["module_path"])
    if lines is None:
        return None
    contexts: set[str] = set()
    for line in range(mutant["start"][0], mutant["end"][0] + 1):
        contexts |= lines.get(line, set())
    if "" in contexts:  # run while importing (module level): any test may depend on it
        return None
    return sorted(contexts)


# -- run by the venv's python (it needs cosmic_ray) ---------------------------------------


def list_mutants(session: str, seed: int) -> None:
    """One JSON line per mutant: the focus ones first, in file order, then the rest shuffled."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(session, WorkDB.Mode.open) as db:
        items = list(db.work_items)
    focus, rest = [], []
    annotations: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    for item in items:
        (spec,) = item.mutations
        module = str(spec.module_path)
        if module not in annotations:
            source = Path(module).read_text()
            postponed = "from __future__ import annotations" in source
            annotations[module] = annotation_spans(source) if postponed else []
        start = tuple(spec.start_pos)
        if any(low <= start < high for low, high in annotations[module]):
            continue  # an annotation is never evaluated: its mutants are equivalent
        mutant = {
            "module_path": module,
            "operator": spec.operator_name,
            "occurrence": spec.occurrence,
            "function": spec.definition_name,
            "where": f"{module}:{spec.start_pos[0]}",
            "start": list(spec.start_pos),
            "end": list(spec.end_pos),
        }
        (focus if spec.definition_name in FOCUS.get(module, ()) else rest).append(mutant)
    random.Random(seed).shuffle(rest)
    for mutant in focus + rest:
        mutant["focus"] = mutant in focus
        print(json.dumps(mutant))


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(line, column) ranges of every type annotation in a module."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for annotation in filter(None, found):
            end = (annotation.end_lineno or annotation.lineno, annotation.end_col_offset or 0)
            spans.append(((annotation.lineno, annotation.col_offset), end))
    return spans


def write_results(output: Path, report: list[dict[str, object]], seconds: float) -> None:
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutate` (mutation/run.py, cosmic-ray): per group of modules, the",
        "share of mutants the tests kill, and every mutant that survived, with its diff.",
        "Mutants of the status-code and acknowledgement paths run first; the others in a",
        f"fixed random order until the group's time is up. This run: {seconds / 60:.1f} min.",
        "",
    ]
    survivors: list[str] = []
    for entry in report:
        group: Group = entry["group"]  # type: ignore[assignment]
        results: list[tuple[dict[str, object], dict[str, object]]] = entry["results"]  # type: ignore[assignment]
        counts = {"focus": [0, 0], "other": [0, 0]}
        for mutant, result in results:
            kind = "focus" if mutant["focus"] else "other"
            if (
                result.get("worker_outcome") == "normal"
                and result.get("test_outcome") == "survived"
            ):
                counts[kind][1] += 1
                survivors.append(
                    f"### {mutant['where']} in `{mutant['function']}` ({mutant['operator']})\n\n"
                    f"```diff\n{str(result.get('diff') or '').strip()}\n```\n"
                )
            elif result.get("worker_outcome") in ("normal", "exception"):
                counts[kind][0] += 1  # failed tests, a timeout, or a module that no longer loads
        run = sum(k + s for k, s in counts.values())
        killed = sum(k for k, _ in counts.values())
        score = f"{100 * killed / run:.1f}%" if run else "n/a"
        focus_killed, focus_survived = counts["focus"]
        lines.append(
            f"- **{group.name}**: {score} killed ({killed} of {run} run, of "
            f"{entry['total']} mutants); status-code and acknowledgement paths: "
            f"{focus_killed} of {focus_killed + focus_survived} killed"
        )
    lines += ["", "## Surviving mutants", ""]
    lines += survivors or ["None."]
    output.write_text("\n".join(lines) + "\n")


def run_one(mutant: dict[str, Any], command: str) -> None:
    """Apply one mutant, run the tests, put the file back; print cosmic-ray's result as JSON."""
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_item import MutationSpec

    spec = MutationSpec(
        module_path=mutant["module_path"],
        operator_name=mutant["operator"],
        occurrence=mutant["occurrence"],
        start_pos=tuple(mutant["start"]),
        end_pos=tuple(mutant["end"]),
    )
    result = mutate_and_test([spec], command, timeout=3600)  # run() enforces the real one
    print(
        json.dumps(
            {
                "worker_outcome": str(result.worker_outcome.value),
                "test_outcome": result.test_outcome.value if result.test_outcome else None,
                "diff": result.diff,
            }
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--list":
        list_mutants(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "--one":
        run_one(json.loads(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(main())
