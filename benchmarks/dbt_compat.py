"""Proof for `orchestrator import dbt`: build a dbt project with dbt (dbt-duckdb, installed in a
separate environment) and with us after importing it, then compare every relation dbt built:
row counts, column names and types, and content as a multiset (EXCEPT ALL both ways).

    python benchmarks/dbt_compat.py --peers VENV PROJECT [PROJECT...] [--setup SQL] [--now T]
    python benchmarks/dbt_compat.py --peers VENV --fixtures      # the tests' fixture projects
    python benchmarks/dbt_compat.py --peers VENV --mirrors DIR PROJECT...  # packages for dbt

VENV holds dbt-core and dbt-duckdb (`python -m venv VENV && VENV/bin/pip install
'dbt-core~=1.11.0' 'dbt-duckdb~=1.10.0'`). The projects are copied first: neither tool writes
into them. dbt builds the reference as a team runs it: seeds, snapshots and models in the
DAG's order (`dbt seed`, then `dbt build` of the rest without tests), then
`dbt test`, whose failing tests explain a relation our blocking checks hold back (`--build`:
plain `dbt build`). We import an untouched copy (no `dbt_packages/`) and `orchestrator run` it.
The packages a project asks for (`package-lock.yml`, else the newest tag `packages.yml`
admits) are exported for dbt only from git mirrors under `--mirrors` (`owner+name/repo`, as
`fetch` leaves them): a hub package from its repository, a `git:` one from the mirror whose
owner and name its URL ends in (at its `revision`), a `local:` one copied from beside the
project. `--vars` (dbt's, a YAML mapping) goes to every dbt command and to our import.
`--catalog` names dbt's database file when a snapshot's `target_database` names it.
`--setup` loads raw data (a SQL file) into both warehouses before building; `--now` pins
our clock and ends dbt's microbatch backfill at the same time. Exit 1 on any difference.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SYSTEM = ("information_schema", "pg_catalog", "orchestrator")


def _run(
    command: list[str], cwd: Path, env: dict | None = None, strict: bool = True
) -> subprocess.CompletedProcess:
    """Run a command; `strict`: exit 2 and worse (not a build with failures) raise."""
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if strict and done.returncode not in (0, 1):
        raise RuntimeError(
            f"{' '.join(command[:4])} failed: {done.stdout[-800:]}{done.stderr[-800:]}"
        )
    return done


def _dbt_warehouse(copy: Path, catalog: str | None = None) -> Path:
    """Point the copy's profile at a file inside it (writing a profile when it has none)."""
    import yaml

    spec = copy / "dbt_project.yml"
    project = yaml.safe_load(spec.read_text())
    profile = project.get("profile") or project["name"]
    if not project.get("profile"):  # dbt needs one named; the copy is ours to edit
        spec.write_text(spec.read_text() + f"\nprofile: {profile}\n")
    profiles_file = copy / "profiles.yml"
    profiles = yaml.safe_load(profiles_file.read_text()) if profiles_file.exists() else {}
    entry = (profiles or {}).get(profile) or {
        "target": "dev",
        "outputs": {"dev": {"type": "duckdb"}},
    }
    target = entry["outputs"][entry.get("target", "dev")]
    # the file keeps its name (a snapshot's target_database names its catalog); extensions
    # would be downloaded, and this machine has no network
    named = f"{catalog}.duckdb" if catalog else Path(str(target.get("path") or "dbt.duckdb")).name
    if named in ("", ":memory:") or not named.endswith(".duckdb"):
        named = "dbt.duckdb"
    target.pop("extensions", None)
    target.update({"type": "duckdb", "path": str(copy / named), "threads": 2})
    profiles_file.write_text(yaml.safe_dump({profile: entry}))
    return copy / named


# dbt Hub names -> the repositories holding their history (forks keep the old tags)
_HUB = {
    "dbt-labs/dbt_utils": "dbt-labs+dbt-utils",
    "calogica/dbt_expectations": "metaplane+dbt-expectations",
    "metaplane/dbt_expectations": "metaplane+dbt-expectations",
    "calogica/dbt_date": "godatadriven+dbt-date",
    "godatadriven/dbt_date": "godatadriven+dbt-date",
    "dbt-labs/audit_helper": "dbt-labs+dbt-audit-helper",
    "dbt-labs/codegen": "dbt-labs+dbt-codegen",
    "dbt-labs/dbt_project_evaluator": "dbt-labs+dbt-project-evaluator",
}


def _vars_args(variables: str | None) -> list[str]:
    """dbt's `--vars`, given alike to each dbt command and to `orchestrator import dbt`."""
    return ["--vars", variables] if variables else []


def _git_mirror(url: str, mirrors: Path) -> Path:
    """The mirror of a `git:` package: `owner+name/repo` from the URL's last two parts."""
    import re

    parts = [p for p in re.split(r"[/:]", url.strip().rstrip("/")) if p]
    owner, name = parts[-2], parts[-1].removesuffix(".git")
    return mirrors / f"{owner}+{name}" / "repo"


def _install(archive: bytes | None, source: Path | None, into: Path, fallback: str) -> Path:
    """A package's files (a git archive, or a folder) in dbt_packages/, under the name its
    dbt_project.yml gives it (as `dbt deps` names it)."""
    import yaml

    staging = Path(tempfile.mkdtemp(dir=into.parent))
    if archive is not None:
        subprocess.run(["tar", "-x", "-C", str(staging)], input=archive, check=True)
    else:
        shutil.copytree(source, staging, dirs_exist_ok=True)
    spec = staging / "dbt_project.yml"
    named = (yaml.safe_load(spec.read_text()) or {}).get("name") if spec.exists() else None
    dest = into / str(named or fallback)
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging), str(dest))
    return dest


def _version_key(tag: str) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in tag.lstrip("v").split("."))


def _admits(tag: str, spec) -> bool:
    """Whether a tag satisfies a packages.yml version (a pin or a list of comparisons)."""
    import operator

    ops = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
    for part in spec if isinstance(spec, list) else [spec]:
        part = str(part).strip()
        op = next((o for o in (">=", "<=", ">", "<") if part.startswith(o)), None)
        wanted = _version_key(part[len(op) :].strip() if op else part)
        if not (ops[op] if op else operator.eq)(_version_key(tag), wanted):
            return False
    return True


def _export_packages(copy: Path, mirrors: Path, origin: Path | None = None) -> list[str]:
    """dbt_packages/ for dbt's reference build: each package the project asks for, exported
    from its mirror at the version it pins (or the newest tag its range admits; a `git:` one
    at its `revision`, a `local:` one copied from `origin`, the project's own folder), and
    the packages those ask for in turn."""
    import yaml

    origin = origin or copy
    lock, wanted = copy / "package-lock.yml", copy / "packages.yml"
    source = lock if lock.exists() else wanted
    if not source.exists():
        return []
    todo = [
        (entry, origin)
        for entry in (yaml.safe_load(source.read_text()) or {}).get("packages") or []
    ]
    done: list[str] = []
    seen: set[str] = set()
    installed = copy / "dbt_packages"
    while todo:
        entry, beside = todo.pop(0)
        if not isinstance(entry, dict):
            continue
        dest = None
        if entry.get("git"):
            url = str(entry["git"])
            revision = str(entry.get("revision") or "HEAD")
            if url in seen:
                continue
            seen.add(url)
            repo = _git_mirror(url, mirrors)
            if not repo.exists():
                raise RuntimeError(f"package {url}: no mirror at {repo} (fetch it first)")
            where = [f"{revision}:{entry['subdirectory']}"] if entry.get("subdirectory") else []
            archive = subprocess.run(
                ["git", "--git-dir", str(repo), "archive", *(where or [revision])],
                capture_output=True,
            )
            if archive.returncode:
                raise RuntimeError(
                    f"package {url}: no revision {revision} in {repo}: {archive.stderr[-300:]}"
                )
            fallback = repo.parent.name.split("+")[-1].replace("-", "_")
            dest = _install(archive.stdout, None, installed, fallback)
            done.append(f"{url}@{revision}")
        elif entry.get("local"):
            folder = (beside / str(entry["local"])).resolve()
            if str(folder) in seen:
                continue
            seen.add(str(folder))
            if not folder.is_dir():
                raise RuntimeError(f"package local: {entry['local']}: no folder {folder}")
            dest = _install(None, folder, installed, folder.name)
            done.append(f"local {entry['local']}")
        if dest is not None:
            inner = dest / "packages.yml"
            if inner.exists():
                todo += [
                    (e, dest)
                    for e in (yaml.safe_load(inner.read_text()) or {}).get("packages") or []
                ]
            continue
        hub = str(entry.get("package", ""))
        if not hub or hub in seen:
            continue
        seen.add(hub)
        repo = mirrors / _HUB.get(hub, hub.replace("/", "+")) / "repo"
        if not repo.exists():
            raise RuntimeError(f"package {hub}: no mirror at {repo} (fetch it first)")
        tags = subprocess.run(
            ["git", "--git-dir", str(repo), "tag"], capture_output=True, text=True, check=True
        ).stdout.split()
        fitting = [t for t in tags if _admits(t, entry.get("version", ">=0"))]
        if not fitting:
            raise RuntimeError(f"package {hub}: no tag admits {entry.get('version')}")
        tag = max(fitting, key=_version_key)
        archive = subprocess.run(
            ["git", "--git-dir", str(repo), "archive", tag], capture_output=True, check=True
        ).stdout
        dest = _install(archive, None, installed, hub.split("/")[-1])
        done.append(f"{hub}@{tag}")
        inner = dest / "packages.yml"
        if inner.exists():
            todo += [
                (e, dest) for e in (yaml.safe_load(inner.read_text()) or {}).get("packages") or []
            ]
    return done


def _relations(con, alias: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_catalog = '{alias}' ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        if schema in SYSTEM:
            continue
        found.setdefault(f"{schema}.{table}", []).append((column, kind))
    return found


def _clock_columns(con, name: str, columns: list[tuple[str, str]], windows: dict) -> list[str]:
    """The time columns of a relation whose every value is the moment its tool built it (a
    snapshot's check-strategy times, `current_timestamp` in a query, `'{{ run_started_at }}'`
    written as text): in dbt's relation within dbt's build, in ours within our run."""
    found = []
    for column, kind in columns:
        if not kind.startswith(("TIMESTAMP", "VARCHAR")):
            continue
        inside = True
        for db, (low, high) in windows.items():
            value = f'TRY_CAST("{column}" AS TIMESTAMPTZ)'
            row = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {value} BETWEEN ? AND ?) "
                f'FROM {db}.{name} WHERE "{column}" IS NOT NULL',
                [low, high],
            ).fetchone()
            inside = inside and row[0] > 0 and row[0] == row[1]
        if inside:
            found.append(column)
    return found


def _float_columns(con, name: str, columns: list[tuple[str, str]]) -> list[str]:
    """The DOUBLE columns that alone make a relation differ, when it is equal once each is
    rounded to single precision: sums of doubles taken in another order (parallel
    aggregation, another row order upstream) differ in their last bits. None otherwise."""
    doubles = {c for c, kind in columns if kind in ("DOUBLE", "FLOAT")}
    if not doubles:
        return []
    rounded = ", ".join(f'CAST("{c}" AS REAL)' if c in doubles else f'"{c}"' for c, _ in columns)
    for a, b in (("theirs", "ours"), ("ours", "theirs")):
        if con.execute(
            f"SELECT 1 FROM (SELECT {rounded} FROM {a}.{name} EXCEPT ALL "
            f"SELECT {rounded} FROM {b}.{name}) LIMIT 1"
        ).fetchall():
            return []
    return [
        c
        for c, _ in columns
        if c in doubles
        and con.execute(
            f'SELECT 1 FROM (SELECT "{c}" FROM theirs.{name} EXCEPT ALL '
            f'SELECT "{c}" FROM ours.{name}) LIMIT 1'
        ).fetchall()
    ]


def compare(
    dbt_file: Path, ours_file: Path, counted: list | None = None, windows: dict | None = None
) -> list[str]:
    """Every difference between the relations dbt built and ours, as lines (`counted` gets
    the names of the relations dbt built). With `windows` (tool -> when it built), time
    columns holding only the moment each tool ran are compared apart (they cannot be equal):
    a relation equal in every other column is reported as such."""
    import duckdb

    con = duckdb.connect()
    if not dbt_file.exists():
        return [f"dbt built nothing: no warehouse at {dbt_file}"]
    con.execute(f"ATTACH '{dbt_file}' AS theirs (READ_ONLY)")
    theirs = _relations(con, "theirs")
    problems = []
    if counted is not None:
        counted.extend(sorted(theirs))
    if not ours_file.exists():  # nothing built (or not even imported): every one is missing
        con.close()
        return [
            f"{name}: dbt built it, we did not (we have no warehouse: {ours_file})"
            for name in sorted(theirs)
        ]
    con.execute(f"ATTACH '{ours_file}' AS ours (READ_ONLY)")
    mine = _relations(con, "ours")
    for name, columns in sorted(theirs.items()):
        if name not in mine:
            problems.append(f"{name}: dbt built it, we did not")
            continue
        if columns != mine[name]:
            problems.append(f"{name}: columns differ: dbt {columns} / ours {mine[name]}")
            continue
        counts = [
            con.execute(f"SELECT count(*) FROM {db}.{name}").fetchone()[0]
            for db in ("theirs", "ours")
        ]
        if counts[0] != counts[1]:
            problems.append(f"{name}: {counts[0]} rows in dbt's, {counts[1]} in ours")
        differ = any(
            con.execute(
                f"SELECT 1 FROM (SELECT * FROM {a}.{name} EXCEPT ALL SELECT * FROM {b}.{name})"
                " LIMIT 1"
            ).fetchall()
            for a, b in (("theirs", "ours"), ("ours", "theirs"))
        )
        if not differ:
            continue
        clock = _clock_columns(con, name, columns, windows) if windows else []
        if clock and "dbt_scd_id" in dict(columns):
            clock.append("dbt_scd_id")  # a hash of the key and of such a time
        kept = ", ".join(f'"{c}"' for c, _ in columns if c not in clock) or "1"
        floats = _float_columns(con, name, [(c, k) for c, k in columns if c not in clock])
        if floats:
            problems.append(
                f"{name}: float: equal but for the last bits of a double (summation order), "
                f"in {', '.join(floats)}"
            )
            continue
        for first, second in (("theirs", "ours"), ("ours", "theirs")):
            rows = con.execute(
                f"SELECT {kept} FROM {first}.{name} EXCEPT ALL "
                f"SELECT {kept} FROM {second}.{name} LIMIT 3"
            ).fetchall()
            if rows:
                who = "dbt's" if first == "theirs" else "ours"
                problems.append(f"{name}: rows only in {who}, e.g. {rows}")
        if clock and not any(p.startswith(f"{name}: rows only") for p in problems):
            problems.append(
                f"{name}: clock: equal but for the time each tool ran, in {', '.join(clock)}"
            )
    con.close()
    return problems


@dataclass(frozen=True)
class Options:
    peers: Path  # the venv holding dbt
    work: Path
    setup: str | None = None  # SQL loading raw data into both warehouses
    now: str | None = None
    mirrors: Path | None = None  # git mirrors of the packages (dbt only)
    build: bool = False  # `dbt build`: failing tests stop what reads their model
    catalog: str | None = None  # the name of dbt's database file, when the project names it
    vars: str | None = None  # dbt's --vars (YAML), for dbt and for our import


def _utc_now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _failing_tests(copy: Path) -> dict[str, list[str]]:
    """After `dbt test`: relation (schema.name) -> the dbt tests that fail on it."""
    import json

    results = json.loads((copy / "target" / "run_results.json").read_text())["results"]
    nodes = json.loads((copy / "target" / "manifest.json").read_text())["nodes"]
    failing: dict[str, list[str]] = {}
    for result in results:
        if result.get("status") not in ("fail", "error"):
            continue
        test = nodes.get(result["unique_id"], {})
        for parent in test.get("depends_on", {}).get("nodes", []):
            node = nodes.get(parent)
            if node and node.get("resource_type") in ("model", "seed", "snapshot"):
                relation = f"{node['schema']}.{node.get('alias') or node['name']}".lower()
                failing.setdefault(relation, []).append(test.get("name", result["unique_id"]))
    return failing


def check(project: Path, options: Options) -> list[str]:
    """Build `project` with dbt and with us; print what differs; return the differences that
    nothing explains."""
    name, work = project.name, options.work
    copy = work / f"{name}-dbt"
    untouched = work / f"{name}-import"
    ignore = shutil.ignore_patterns("target", "*.duckdb", "logs", ".git")
    shutil.copytree(project, copy, ignore=ignore)
    shutil.copytree(project, untouched, ignore=ignore)
    # what `dbt deps` installs is no part of the project we import (a package vendored in
    # dbt_packages/ with no packages.yml is: it ships with the project)
    if any((project / f).is_file() for f in ("packages.yml", "dependencies.yml")):
        shutil.rmtree(untouched / "dbt_packages", ignore_errors=True)
    packages = _export_packages(copy, options.mirrors, project) if options.mirrors else []
    dbt_file = _dbt_warehouse(copy, options.catalog)
    ours = work / f"{name}-ours"
    if options.setup:
        import duckdb

        for target in (dbt_file, ours / "warehouse.duckdb"):
            target.parent.mkdir(parents=True, exist_ok=True)
            con = duckdb.connect(str(target))
            con.execute(options.setup)
            con.close()
    extra = ["--profiles-dir", ".", *_vars_args(options.vars)]
    # microbatch models build the year up to our clock (dbt builds a batch per day of the
    # range, so it is kept short); seeds take no such option
    window = []
    if options.now:
        from datetime import date, timedelta

        end = date.fromisoformat(options.now[:10])
        window = [
            "--event-time-start",
            f"{end - timedelta(days=366)}",
            "--event-time-end",
            f"{end}",
        ]
    dbt = str(options.peers / "bin" / "dbt")
    windows = {"theirs": [_utc_now()]}
    if options.build:
        _run([dbt, "build", *extra, *window], copy)
        failing: dict[str, list[str]] = {}
    else:  # seeds first (sources over seeds are no edges of dbt's DAG), then snapshots and
        # models in the DAG's order, as `dbt seed`, `dbt snapshot`, `dbt run` would
        _run([dbt, "seed", *extra], copy)
        skip = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
        _run([dbt, "build", *skip, "--exclude-resource-type", "seed", *extra, *window], copy)
        _run([dbt, "test", "--exclude-resource-type", "unit_test", *extra], copy)
        failing = _failing_tests(copy)
    windows["theirs"].append(_utc_now())
    windows["ours"] = [_utc_now()]
    imported = _run(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "import",
            "dbt",
            str(untouched),
            "--out",
            str(ours),
            "--force",
            *_vars_args(options.vars),
        ],
        work,
        strict=False,
    )
    env = {"ORCHESTRATOR_NOW": options.now} if options.now else {}
    built = _run(
        [sys.executable, "-m", "orchestrator", "-C", str(ours), "run"], work, env, strict=False
    )
    windows["ours"].append(_utc_now())
    said_import = (imported.stdout.strip() or imported.stderr.strip() or "(nothing)").splitlines()
    lines = [f"## {name}", "", f"import: {said_import[0]}"]
    lines += [f"import: {line}" for line in imported.stderr.strip().splitlines()[:5]]
    if packages:
        lines.append(f"dbt's packages: {', '.join(packages)}")
    said = built.stdout.strip().splitlines()
    lines.append(f"our run: {said[-1] if said else built.stderr.strip()[-200:]}")
    relations: list[str] = []
    problems = compare(dbt_file, ours / "warehouse.duckdb", relations, windows)
    explained = [
        p
        for p in problems
        if (p.endswith("dbt built it, we did not") and p.split(":")[0] in failing)
        or ": clock: " in p
        or ": float: " in p
    ]
    unexplained = [p for p in problems if p not in explained]
    differ = {p.split(":")[0] for p in unexplained}
    same = len(relations) - len(differ & set(relations))
    held = [p for p in explained if ": clock: " not in p and ": float: " not in p]
    timed = [p for p in explained if ": clock: " in p]
    rounded = [p for p in explained if ": float: " in p]
    notes = [f"{len(held)} held back by a failing test, as dbt build would"] if held else []
    notes += [f"{len(timed)} equal but for the time each tool ran"] if timed else []
    notes += [f"{len(rounded)} equal but for the last bits of doubles"] if rounded else []
    lines.append(
        f"identical: {same}/{len(relations)}" + (f" ({'; '.join(notes)})" if notes else "")
    )
    lines += [f"- {p}" for p in unexplained]
    lines += [
        f"- {p.split(':')[0]}: held back by its blocking checks; dbt's test "
        f"{', '.join(failing[p.split(':')[0]])} fails on it too (dbt run publishes it, dbt build "
        "publishes it then stops what reads it)"
        for p in held
    ]
    lines += [f"- {p.replace(': clock: ', ': ')}" for p in timed]
    lines += [f"- {p.replace(': float: ', ': ')}" for p in rounded]
    if not problems:
        lines.append("every relation dbt built is the same in ours")
    print("\n".join(lines), flush=True)
    return unexplained


def _fixtures(work: Path) -> list[tuple[Path, str | None, str | None]]:
    """The tests' fixture dbt projects, written out (with their raw data and clock)."""
    spec = importlib.util.spec_from_file_location("fixtures", REPO / "tests" / "test_dbt.py")
    sys.path.insert(0, str(REPO / "tests"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    packages = importlib.util.spec_from_file_location(
        "packages", REPO / "tests" / "test_dbt_packages.py"
    )
    with_packages = importlib.util.module_from_spec(packages)
    packages.loader.exec_module(with_packages)
    out = []
    for name, files, setup in (
        ("shop", module.SHOP, module.RAW),
        ("seeded", module.SEEDS, None),
        ("utils", module.UTILS, None),
        ("packages", with_packages.PACKAGES, None),  # needs --mirrors for dbt's packages
    ):
        root = work / "fixtures" / name
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))
        if name == "utils":  # get_column_values needs the data: leave that model out here
            (root / "models/needs_data.sql").unlink()
        out.append((root, setup, module.NOW))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("projects", nargs="*", type=Path)
    parser.add_argument("--peers", type=Path, required=True, metavar="VENV")
    parser.add_argument("--setup", type=Path, help="SQL loading raw data into both warehouses")
    parser.add_argument("--now", help="our clock, and the end of dbt's microbatch backfill")
    parser.add_argument("--fixtures", action="store_true", help="the tests' fixture projects")
    parser.add_argument("--mirrors", type=Path, help="git mirrors of the packages, for dbt")
    parser.add_argument("--build", action="store_true", help="dbt build (tests stop downstream)")
    parser.add_argument("--catalog", help="the name of dbt's database (a snapshot may name it)")
    parser.add_argument("--vars", help="dbt's --vars (YAML), for dbt and for our import")
    args = parser.parse_args()
    if not (args.peers / "bin" / "dbt").exists():
        parser.error(f"--peers {args.peers}: no bin/dbt there (pip install dbt-duckdb)")
    work = Path(tempfile.mkdtemp(prefix="dbt-compat-"))
    runs = [
        (p.resolve(), args.setup.read_text() if args.setup else None, args.now)
        for p in args.projects
    ]
    if args.fixtures:
        runs += _fixtures(work)
    failed = 0
    for project, setup, now in runs:
        options = Options(
            args.peers, work, setup, now, args.mirrors, args.build, args.catalog, args.vars
        )
        try:
            failed += bool(check(project, options))
        except RuntimeError as exc:
            print(f"## {project.name}\n\n{exc}", flush=True)
            failed += 1
        print()
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
