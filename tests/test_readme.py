"""The README's commands work as written on a fresh clone (issue 17, items 32 and 33).

Every line of the README's ```sh blocks is either run here, in a copy of the project with a clean
environment (no DJANGO_* or DATABASE_URL: a newcomer's shell, so SQLite and `make`'s own settings), or
named in NOT_RUN with the reason. Commands run through `make` with this interpreter's environment as the
virtualenv, marked as installed so that nothing is installed into it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

# make targets the README shows but this test does not run, and why
NOT_RUN = {
    "run": "serves until stopped (its port is checked by test_make_run_serves_on_the_port_asked_for)",
    "test": "the whole suite, which is what runs this test",
    "test-quick": "the suite again",
    "bench": "about 25 minutes on PostgreSQL",
    "load": "a minute of load on the benchmark database",
    "fault": "restarts PostgreSQL",
}
# what a newcomer's shell does not have; the settings must not need it
SCRUBBED = ("DJANGO_", "DATABASE_", "REDIS_URL", "EVIDENCE_", "PYTEST_")
IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "*.egg-info", "db.sqlite3*",
    "staticfiles", "artifacts", "opendata", "seed.ris",
)  # fmt: skip


def sh_commands(markdown: str) -> list[str]:
    """The command lines of the ```sh blocks, without comments and blank lines."""
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.DOTALL | re.MULTILINE):
        for line in block.splitlines():
            command = re.sub(r"(^|\s)#.*$", "", line).strip()
            if command:
                lines.append(command)
    return lines


def test_sh_commands_are_read_from_the_readme():
    commands = sh_commands(README.read_text(encoding="utf-8"))
    assert "make seed" in commands and "make demo" in commands
    assert all(command.split()[0] == "make" for command in commands), (
        "README's sh blocks hold make commands; add another kind to tests/test_readme.py to have it run"
    )


def _make(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    venv = Path(sys.prefix)
    return subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", "-o", f"{venv}/.installed", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _newcomer_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith(SCRUBBED)}


def test_make_run_serves_on_the_port_asked_for():
    """`make run` is only printed (-n): it would serve until stopped."""
    env = _newcomer_env()
    assert "manage.py runserver 127.0.0.1:8000" in _make(["-n", "run"], ROOT, env).stdout
    assert "manage.py runserver 127.0.0.1:8123" in _make(["-n", "run", "PORT=8123"], ROOT, env).stdout


@pytest.mark.slow
def test_the_readme_commands_work_as_written(tmp_path):
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=IGNORED)
    env = _newcomer_env()
    ran = []
    for command in sh_commands(README.read_text(encoding="utf-8")):
        words = shlex.split(command)
        target = next(word for word in words[1:] if "=" not in word and not word.startswith("-"))
        if target in NOT_RUN:
            continue
        done = _make(words[1:], clone, env)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (
            f"{command}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
        ran.append((command, done.stdout))
    # they ran on the fresh clone's own SQLite file, with what the README says they do
    assert (clone / "db.sqlite3").is_file()
    outputs = dict(ran)
    assert "5 demo accounts ready" in outputs["make demo"]
    assert "TY" in outputs["make manage ARGS=createsuperuser"]  # asks on a terminal; here it says it skipped
    assert (clone / "seed.ris").read_text(encoding="utf-8").count("TY  - ") == 46
    assert (clone / "opendata").is_dir() and any((clone / "opendata").iterdir())
