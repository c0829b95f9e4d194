"""sources.survey: one listing of every file source per command, on real files in tmp_path. Its
files of a window must be exactly those a glob per window finds (`window_pattern`), whatever
the placeholders, the other wildcards, or the odd file names beside the regular ones."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from orchestrator.core.partitions import Grain, Window, windows
from orchestrator.core.tasks import Reason, Task
from orchestrator.project.dag import build
from orchestrator.project.loader import load
from orchestrator.sources import survey

BUG = "bug: the survey and the glob per window disagree here"

CASES = [
    pytest.param(
        "data/e_{date}.csv",
        ["e_2024-01-01.csv", "e_2024-01-03.csv", "e_latest.csv", "e_2024-1-2.csv", "notes.txt"],
        (datetime(2024, 1, 1), datetime(2024, 1, 5)),
        id="date-with-odd-names",
    ),
    pytest.param(
        "data/e_{month}.csv",
        ["e_2024-01.csv", "e_2024-03.csv", "e_2024.csv", "e_2024-02x.csv"],
        (datetime(2024, 1, 1), datetime(2024, 5, 1)),
        id="month",
    ),
    pytest.param(
        "data/{date}/e_{hour}.csv",
        ["2024-01-01/e_00.csv", "2024-01-01/e_07.csv", "2024-01-02/e_23.csv", "2024-01-01/e_7.csv"],
        (datetime(2024, 1, 1), datetime(2024, 1, 3)),
        id="date-and-hour",
    ),
    pytest.param(
        "data/*/e_{date}*.csv",
        ["eu/e_2024-01-01.csv", "us/e_2024-01-01_b.csv", "us/e_2024-01-02.csv", "eu/e_x.csv"],
        (datetime(2024, 1, 1), datetime(2024, 1, 4)),
        id="star-elsewhere",
    ),
    pytest.param(
        "data/{date}/e_{date}.csv",
        [
            "2024-01-01/e_2024-01-01.csv",
            "2024-01-01/e_2024-01-02.csv",
            "2024-01-02/e_2024-01-02.csv",
        ],
        (datetime(2024, 1, 1), datetime(2024, 1, 4)),
        id="placeholder-twice",
    ),
    pytest.param(
        "data/e_{date}[ab].csv",
        ["e_2024-01-01a.csv", "e_2024-01-02b.csv", "e_2024-01-02c.csv", "e_2024-01-03.csv"],
        (datetime(2024, 1, 1), datetime(2024, 1, 4)),
        id="glob-characters",  # names the placeholders cannot read: matched by glob
    ),
    pytest.param(
        "data/e_{date}.csv",
        ["e_2024-01-01.csv", "e_2024-02-30.csv"],
        (datetime(2024, 1, 1), datetime(2024, 3, 1)),
        id="not-a-real-day",
    ),
    pytest.param(
        "data/*_{date}*.csv",
        ["a_2024-01-01_2024-01-02.csv"],
        (datetime(2024, 1, 1), datetime(2024, 1, 3)),
        id="name-matching-two-windows",
    ),
    pytest.param(
        "data/{month}/e_{date}.csv",
        ["2024-01/e_2024-01-15.csv", "2024-02/e_2024-01-16.csv"],
        (datetime(2024, 1, 14), datetime(2024, 1, 18)),
        id="placeholders-that-disagree",
    ),
    pytest.param(
        "data/**/e_{date}.csv",
        ["e_2024-01-01.csv", "a/b/e_2024-01-01.csv"],
        (datetime(2024, 1, 1), datetime(2024, 1, 2)),
        id="double-star-over-no-folder",
    ),
]


def write_files(project, folder: str, names: list[str]) -> None:
    for name in names:
        project.write(f"{folder}/{name}", "id\n1\n")


def surveyed(project, *sources: str):
    """The project with these `[sources."NAME"]` bodies (raw.e, raw.f...), and its survey."""
    tables = "".join(
        f'[sources."raw.{name}"]\n{body}\n' for name, body in zip("efgh", sources, strict=False)
    )
    project.write("orchestrator.toml", tables)
    loaded = load(project.root)
    return loaded, survey.take(loaded)


@pytest.mark.parametrize(("path", "names", "span"), CASES)
def test_window_files_are_what_a_glob_per_window_finds(project, path, names, span):
    write_files(project, "data", names)
    loaded, found = surveyed(project, f'path = "{path}"')
    source = loaded.sources["raw.e"]
    assert found.files(source)  # the files are there to be found
    for window in windows(*span, source.grain):
        expected = survey.matching_files(survey.window_pattern(project.root, path, window))
        assert found.window_files(source, window) == expected, window.key


def test_take_lists_each_file_source_once_with_its_size_and_time(project):
    write_files(project, "data", ["e_2024-01-02.csv", "e_2024-01-01.csv"])
    (project.root / "data" / "e_2024-01-01.csv").write_text("id\n1\n2\n")
    loaded, found = surveyed(project, 'path = "data/e_{date}.csv"', "")  # raw.f: a table
    files = found.files(loaded.sources["raw.e"])
    assert files == [str(project.root / "data" / f"e_2024-01-0{d}.csv") for d in (1, 2)]
    assert found.files(loaded.sources["raw.f"]) == []
    listed = found.stat(files[0])
    stat = os.stat(files[0])
    assert (listed.size, listed.mtime_ns) == (len("id\n1\n2\n"), stat.st_mtime_ns)
    assert found.stat(str(project.root / "nowhere.csv")) is None


def test_a_source_without_placeholders_lists_every_matching_file(project):
    write_files(project, "dims", ["a.csv", "b.csv", "c.txt"])
    loaded, found = surveyed(project, 'path = "dims/*.csv"')
    names = [os.path.basename(f) for f in found.files(loaded.sources["raw.e"])]
    assert names == ["a.csv", "b.csv"]


def test_span_files_are_every_period_within_the_window_in_order(project):
    write_files(project, "data", ["e_2024-01-31.csv", "e_2024-02-02.csv", "e_2024-02-01.csv"])
    loaded, found = surveyed(project, 'path = "data/e_{date}.csv"')
    february = Window.containing(datetime(2024, 2, 1), Grain.MONTH)
    names = [os.path.basename(f) for f in found.span_files(loaded.sources["raw.e"], february)]
    assert names == ["e_2024-02-01.csv", "e_2024-02-02.csv"]


def test_newest_is_the_most_recently_modified_file(project):
    write_files(project, "data", ["e_2024-01-01.csv", "e_2024-01-02.csv"])
    old, new = (str(project.root / "data" / f"e_2024-01-0{d}.csv") for d in (1, 2))
    os.utime(old, (2_000_000_000, 2_000_000_000))  # the earlier day, written last
    os.utime(new, (1_000_000_000, 1_000_000_000))
    _, found = surveyed(project, 'path = "data/e_{date}.csv"')
    assert found.newest([new, old]) == old
    assert found.newest([new, str(project.root / "unlisted.csv")]) == new


def test_bindings_point_a_reader_at_its_windows_files_and_others_at_all(project):
    write_files(project, "data", ["e_2024-01-01.csv", "e_2024-01-02.csv"])
    project.model(
        "s.daily",
        """
        -- kind: incremental
        -- partition_by: d
        -- start: 2024-01-01
        select 1 as d from raw.e where d >= {{ start }} and d < {{ end }}
        """,
    )
    project.model("s.other", "select 1 as x from raw.g")
    loaded, found = surveyed(
        project,
        'path = "data/e_{date}.csv"\nread_by_partition = true',
        'path = "data/e_{date}.csv"\nread_by_partition = true',
        'path = "data/e_{date}.csv"',  # raw.g: not read by partition, never bound
    )
    dag = build(loaded)
    day = Window.containing(datetime(2024, 1, 2), Grain.DAY)
    bound = survey.bindings(found, loaded, dag, Task(1, "s.daily", day, Reason.MISSING))
    assert bound == [("raw.e", [str(project.root / "data" / "e_2024-01-02.csv")]), ("raw.f", None)]
    whole = survey.bindings(found, loaded, dag, Task(2, "s.other", None, Reason.MISSING))
    assert whole == [("raw.e", None), ("raw.f", None)]
