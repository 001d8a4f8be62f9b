"""The ``rewind`` console script, run as a user runs it: a subprocess in a fresh directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REWIND = Path(sys.executable).parent / "rewind"
GRAPHS = Path(__file__).with_name("graphs.py")


_UNPRIVILEGED = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]
"""What a command run as root is started through to obey file modes as any user does."""


@dataclass
class Cli:
    """Runs ``rewind`` in ``cwd`` with an environment free of the caller's REWIND_/OTEL_ vars."""

    cwd: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REWIND_", "OTEL_"))}
        env.update({"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", **(extra or {})})
        return env

    unprivileged: bool = False
    """Run as a user the file system's modes bind (root without its override of them)."""

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                *(_UNPRIVILEGED if self.unprivileged and os.geteuid() == 0 else []),
                str(REWIND),
                *args,
            ],
            cwd=self.cwd,
            env=self.env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        (result,) = self.run_all([list(args)], env=env)
        return result

    def run_all(
        self, commands: Sequence[Sequence[str]], env: dict[str, str] | None = None
    ) -> list[Result]:
        """Run independent commands at once (each pays Python's start-up; in parallel)."""
        procs = [self.start(*cmd, env=env) for cmd in commands]
        out = []
        for cmd, proc in zip(commands, procs, strict=True):
            stdout, stderr = proc.communicate(timeout=60)
            out.append(Result(list(cmd), proc.returncode, stdout, stderr))
        return out


@dataclass
class Result:
    """A finished command."""

    args: list[str]
    code: int
    stdout: str
    stderr: str

    def ok(self) -> Result:
        assert self.code == 0, f"rewind {self.args} exited {self.code}: {self.stderr}"
        return self

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines()]

    def run_id(self) -> str:
        """The run id `rewind run` reports on stderr."""
        for line in self.stderr.splitlines():
            if line.startswith("run ") and " thread " in line:
                return line.split()[1]
        raise AssertionError(f"no run id in {self.stderr!r}")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A fresh directory holding the test graphs, and no database yet."""
    assert REWIND.exists(), f"the console script is not installed at {REWIND}"
    shutil.copy(GRAPHS, tmp_path / "graphs.py")
    return Cli(tmp_path)
