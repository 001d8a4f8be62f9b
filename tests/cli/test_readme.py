"""The README's command-line example works as written, and CI runs the README's test command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.cli.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_the_readme_example_graph_runs_from_the_command_line(cli: Cli) -> None:
    source = re.search(r"```python\n(# hello\.py\n.*?)```", README, re.S)[1]  # type: ignore[index]
    (cli.cwd / "hello.py").write_text(source)
    line = re.search(r"^(rewind run hello\.py:graph [^#\n]*?)\s*#", README, re.M)[1]  # type: ignore[index]
    result = cli.run(*shlex.split(line)[1:]).ok()
    assert result.stdout == 'updates  hello: {steps: ["hello"]}\n'


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(python3 -m venv .*?)\n```", README)
    assert len(commands) == 2  # install and run the demo; install and run the tests
    assert commands[0].endswith("&& .venv/bin/rewind demo")
    assert commands[1] in ci.splitlines()
