"""Every verb has ``--help`` with an example."""

from __future__ import annotations

import pytest

from rewind.cli import main

VERBS = [
    ["run"], ["fork"], ["replay"], ["runs"], ["show"], ["tail"], ["state"], ["history"],
    ["export"], ["demo"], ["db"], ["db", "upgrade"], ["db", "current"], ["db", "verify"],
    ["db", "backup"], ["db", "prune"], ["db", "redact"], ["db", "redactions"], ["serve"],
    ["worker"],
]  # fmt: skip


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_every_verb_has_help_with_an_example(
    verb: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*verb, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text
    assert f"rewind {verb[0]}" in text.split("Example", 1)[1]


def test_the_group_lists_every_verb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for verb in {v[0] for v in VERBS}:
        assert f"  {verb} " in text
