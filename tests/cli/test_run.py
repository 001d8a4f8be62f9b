"""``rewind run``, ``replay``, ``--resume`` and ``fork`` as a user runs them."""

from __future__ import annotations

import json
import signal

from tests.cli.conftest import Cli

HI = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
MODES = ["-m", "updates", "-m", "messages-tuple", "-m", "custom", "-m", "values"]


def test_replay_prints_the_json_lines_run_printed(cli: Cli) -> None:
    live = cli.run("run", "graphs.py:chat", "--input", HI, *MODES, "--subgraphs", "--json").ok()
    single = cli.run("run", "graphs.py:chat", "--input", HI).ok()  # default mode, readable
    again, again_single = cli.run_all(
        [
            ["replay", live.run_id(), *MODES, "--subgraphs", "--json"],
            ["replay", single.run_id()],
        ]
    )
    assert again.ok().stdout == live.stdout
    assert again_single.ok().stdout == single.stdout

    # Shaped as the library yields them: [namespace, mode, chunk] under --subgraphs.
    lines = live.json_lines()
    assert {mode for _, mode, _ in lines} == {"updates", "messages", "custom", "values"}
    tokens = [chunk for ns, mode, chunk in lines if mode == "messages" and ns]
    assert tokens and all(len(pair) == 2 for pair in tokens)  # [message.model_dump(), metadata]
    assert "".join(message["content"] for message, _ in tokens) == "the log keeps every token"
    assert tokens[0][0]["type"] == "AIMessageChunk"
    assert tokens[0][1]["langgraph_node"] == "think"
    assert lines[1] == [[], "custom", {"progress": "preparing"}]
    assert any(ns and ns[0].startswith("inner:") for ns, _, _ in lines)

    # The run id and the thread id are on stderr, never mixed into the chunks.
    assert f"run {live.run_id()} thread " in live.stderr
    assert single.stdout.splitlines() == [
        'updates  prepare: {notes: ["prepared"]}',
        "updates  inner: {messages: [human: hi, ai: the log keeps every token], notes: "
        '["prepared", "thought"]}',
    ]


def test_an_interrupt_is_answered_with_resume(cli: Cli) -> None:
    asked = cli.run(
        "run", "graphs.py:approval", "--input", '{"draft": "cats"}', "--thread", "t1", "--json"
    ).ok()
    *_, interrupted = asked.json_lines()
    (pending,) = interrupted["__interrupt__"]
    assert pending["value"] == {"question": "publish this?", "draft": "a post about cats"}
    assert len(pending["id"]) == 32
    assert "--thread t1 --resume" in asked.stderr

    answered = cli.run(
        "run", "graphs.py:approval", "--thread", "t1", "--resume", '"yes"', "--json"
    ).ok()
    assert answered.json_lines() == [{"review": {"approved": "yes"}}]

    runs, state, twice = cli.run_all(
        [
            ["runs", "--thread", "t1", "--json"],
            ["state", "t1", "--json"],
            ["run", "graphs.py:approval", "--thread", "t1", "--resume", '"again"'],
        ]
    )
    assert [r["status"] for r in runs.ok().json_lines()] == ["success", "interrupted"]
    (snapshot,) = state.ok().json_lines()
    assert snapshot["values"] == {"draft": "a post about cats", "approved": "yes"}
    assert snapshot["next"] == []
    assert twice.code == 2
    assert "thread t1 is not waiting at an interrupt" in twice.stderr


def test_a_failed_run_exits_1_and_says_why(cli: Cli) -> None:
    plain, debug = cli.run_all(
        [
            ["run", "graphs.py:broken", "--input", '{"n": 3}'],
            ["--debug", "run", "graphs.py:broken", "--input", '{"n": 3}'],
        ]
    )
    assert plain.code == 1
    (message,) = [line for line in plain.stderr.splitlines() if line.startswith("rewind:")]
    assert "failed: ValueError: cannot count past 3" in message
    assert "rewind show" in message
    assert "Traceback" not in plain.stderr
    assert debug.code == 1
    assert "Traceback" in debug.stderr
    shown = cli.run("show", plain.run_id()).ok()
    assert "ValueError: cannot count past 3" in shown.stdout
    assert "error" in shown.stdout


def test_fork_changes_the_state_and_runs_on_from_a_checkpoint(cli: Cli) -> None:
    first = cli.run("run", "rewind.cli.demo:graph", "--input", HI, "--thread", "f").ok()
    history = cli.run("history", "f", "--json").ok().json_lines()
    before_agent, done = (next(c for c in history if c["step"] == n) for n in (0, 1))
    assert before_agent["next"] == ["agent"]
    ask = {"messages": [{"role": "user", "content": "weather in London?"}]}
    fork, full, suffix = cli.run_all(
        [
            ["fork", first.run_id(), "--checkpoint", before_agent["checkpoint_id"],
             "--update", json.dumps(ask), "--graph", "rewind.cli.demo:graph", "--json"],
            ["replay", first.run_id(), "-m", "values", "--json"],
            ["replay", first.run_id(), "-m", "values", "--json", "--from", done["checkpoint_id"]],
        ]
    )  # fmt: skip
    # The replay from a checkpoint is the full replay's suffix from there.
    assert suffix.ok().stdout and full.ok().stdout.endswith(suffix.stdout)
    assert len(suffix.json_lines()) == 1 < len(full.json_lines())
    fork.ok()
    assert f"fork of {first.run_id()} at checkpoint {before_agent['checkpoint_id']}" in fork.stderr
    updates = fork.json_lines()
    calls = updates[0]["agent"]["messages"][0]["tool_calls"]
    assert [c["args"] for c in calls] == [{"city": "London"}]
    assert "12°C with light rain" in updates[-1]["agent"]["messages"][0]["content"]
    shown = cli.run("show", fork.run_id()).ok()
    assert "from     fork of run" in shown.stdout


def test_a_stategraph_or_a_factory_is_run_too(cli: Cli) -> None:
    builder, factory = cli.run_all(
        [
            ["run", "graphs.py:builder", "--input", '{"draft": "owls"}', "--json"],
            ["run", "graphs.py:make_chat", "--input", HI, "-m", "custom", "--json"],
        ]
    )
    assert builder.ok().json_lines()[0] == {"write": {"draft": "a post about owls"}}
    assert factory.ok().json_lines() == [{"progress": "preparing"}]  # the subgraph's: hidden


def test_ctrl_c_stops_the_run_and_records_its_end(cli: Cli) -> None:
    running = cli.start("run", "graphs.py:slow", "--input", '{"n": 1}', "-m", "custom", "--json")
    assert running.stdout is not None
    assert json.loads(running.stdout.readline()) == {"napping": True}  # the node is running
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=30)
    assert running.returncode == 130
    assert stderr.splitlines()[-1] == "rewind: interrupted"
    assert "Traceback" not in stderr
    (record,) = cli.run("runs", "--json").ok().json_lines()
    assert record["status"] == "cancelled"  # ended, not left `running`
