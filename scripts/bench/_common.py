"""What every benchmark shares: paths, the ``tune.py`` runner, the result cache, the markdown.

Each benchmark script keeps only what is its own (its methods, problems and
tables). Results are cached as JSON lines under ``bench/<name>/`` in the
working directory (a re-run computes only what is missing; ``--fresh``
starts over), and the tables are written to ``scripts/bench/<name>.md``
between two markers, so the notes and history kept by hand in that file
around the generated block survive a re-run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from pathlib import Path
from typing import Any

from kt_ext.outputs.status import RUN_FINISHED

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TUNE = ROOT / "scripts" / "tune.py"
CONF = ROOT / "conf"
BEGIN = "<!-- results: written by the script; edit outside this block -->"
END = "<!-- end of results -->"


def markers(block: str = "") -> tuple[str, str]:
    """The lines that open and close a generated block (``block`` names one of several)."""
    if not block:
        return BEGIN, END
    return (
        f"<!-- results ({block}): written by the script; edit outside this block -->",
        f"<!-- end of results ({block}) -->",
    )


def tune(overrides: Sequence[str], run_dir: Path, env: dict[str, str] | None = None) -> dict:
    """Run ``scripts/tune.py`` with ``overrides`` into ``run_dir``; its ``summary.json``.

    A run whose ``summary.json`` says it finished is not run again; one
    stopped part-way (a benchmark killed) is resumed by the same command
    into its directory, as a user resumes one. The command's console output
    goes to ``<run_dir>.log``.

    Raises:
        RuntimeError: The command failed (the log's tail says why).
    """
    summary = run_dir / "summary.json"
    if not summary.exists() or json.loads(summary.read_text())["status"] != RUN_FINISHED:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(TUNE), *overrides, f"hydra.run.dir={run_dir}"]
        print("+", " ".join(cmd[1:]), file=sys.stderr, flush=True)
        log = run_dir.with_suffix(".log")
        with log.open("w") as f:
            proc = subprocess.run(
                cmd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
            )
        if proc.returncode:
            raise RuntimeError(f"{' '.join(overrides)} failed:\n{log.read_text()[-3000:]}")
    return json.loads(summary.read_text())


def run_pool(todo: Iterable[Any], launch: Callable[[Any], dict], jobs: int) -> Iterator[dict]:
    """``launch`` every item of ``todo`` on ``jobs`` threads; results as they are ready."""
    with futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        yield from pool.map(launch, list(todo))


class Cache:
    """JSON-lines results of one benchmark, keyed by the fields ``key`` names.

    Args:
        path: The JSON-lines file.
        key: The fields that identify a result (``("method", "seed")``).
        fresh: Start over (the file is emptied).
    """

    def __init__(self, path: Path, key: Sequence[str], fresh: bool = False) -> None:
        self.path = path
        self.key = tuple(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh and path.exists():
            path.unlink()
        self.rows: dict[tuple, dict] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.rows[self.key_of(row)] = row  # later lines win

    def key_of(self, row: dict) -> tuple:
        """The key of a result row."""
        return tuple(row.get(k) for k in self.key)

    def __contains__(self, key: tuple) -> bool:
        return key in self.rows

    def __getitem__(self, key: tuple) -> dict:
        return self.rows[key]

    def add(self, row: dict) -> None:
        """Keep ``row`` and append it to the file at once (a killed run loses nothing)."""
        self.rows[self.key_of(row)] = row
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def common_arguments(parser: argparse.ArgumentParser, name: str, seeds: int, jobs: int) -> None:
    """``--seeds``, ``--jobs``, ``--out`` (the cache folder) and ``--fresh``."""
    parser.add_argument("--seeds", type=int, default=seeds, help="seeds FIRST..N-1 of every method")
    parser.add_argument("--jobs", type=int, default=jobs, help="runs at once")
    parser.add_argument("--out", type=Path, default=Path("bench") / name, help="result cache")
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")


def replicate_arguments(parser: argparse.ArgumentParser) -> None:
    """``--first-seed`` and ``--block``: an independent replicate, reported in a block of its own.

    A replicate runs seeds no earlier run used (their streams share nothing),
    so its figures check the first run's rather than repeat them; a pooled
    reading of both is then a larger sample.
    """
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        metavar="FIRST",
        help="run and report seeds FIRST..N-1 only: an independent replicate of seeds 0..FIRST-1",
    )
    parser.add_argument("--block", default="", help="name of the results block written")


class Report:
    """The markdown a benchmark prints and writes beside itself (``scripts/bench/<name>.md``)."""

    def __init__(self, name: str, block: str = "") -> None:
        self.name = name
        self.block = block
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        """Append lines (and print them)."""
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)

    def table(self, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """A markdown table."""
        self.add(markdown_table(header, rows))

    @property
    def path(self) -> Path:
        """The markdown file beside the script, ``scripts/bench/<name>.md``."""
        return HERE / f"{self.name}.md"

    def write(self, command: str) -> Path:
        """Replace this report's generated block of ``<name>.md``; keep everything else.

        Args:
            command: The command line that produced it (quoted above the tables).
        """
        path = self.path
        begin, end = markers(self.block)
        block = [begin, "", f"Command: `{command}`", "", *self.lines, "", end]
        text = path.read_text() if path.exists() else f"# {self.name}\n"
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            tail = rest.split(end, 1)[1]
            text = head + "\n".join(block) + tail
        else:
            text = text.rstrip() + "\n\n" + "\n".join(block) + "\n"
        path.write_text(text)
        print(f"\nwritten to {path}", file=sys.stderr)
        return path


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """``| a | b |`` lines with a separator row."""
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def seed_words(seeds: Sequence[int]) -> str:
    """``10 seeds`` (seeds 0..9), or ``10 seeds (10-19)`` for a later replicate.

    Args:
        seeds: The seeds reported, in increasing order.
    """
    if not seeds:
        return "0 seeds"
    if list(seeds) != list(range(seeds[0], seeds[-1] + 1)):
        return f"{len(seeds)} seeds ({', '.join(map(str, seeds))})"
    span = f" ({seeds[0]}-{seeds[-1]})" if seeds[0] else ""
    return f"{len(seeds)} seeds{span}"


def command_line(arguments: Sequence[str] | None = None) -> str:
    """This process's command line, as a user would type it.

    Args:
        arguments: The arguments after the script (default: this process's).
    """
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return " ".join(["python", str(script), *(sys.argv[1:] if arguments is None else arguments)])
