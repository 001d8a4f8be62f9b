"""Write ``before_heads.db`` and ``expected.json``: a database from the release before thread
heads (schema revision 0002, routing decisions as ``route`` events carrying a copy of the
state), and every view of it as that release showed it.

Run it with rewind at commit a9e1771 (the last commit before schema revision 0003), from the
repository root, in an environment that has langchain-core (the project's dev venv)::

    git worktree add --detach ../rewind-a9e1771 a9e1771
    PYTHONPATH=../rewind-a9e1771/src .venv/bin/python tests/log/old_databases/make_fixture.py
    git worktree remove ../rewind-a9e1771

It refuses to run under any other release (the fixture must come from the old code). The
threads it writes are listed in :data:`views.THREADS`; what each run did is in ``write``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DATABASE = HERE / "before_heads.db"
EXPECTED = HERE / "expected.json"
OLD_REVISION = "0002"

if str(ROOT) not in sys.path:  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(ROOT))

from rewind import migrations  # noqa: E402
from rewind.checkpoint.sqlite import SqliteSaver  # noqa: E402
from rewind.types import Command  # noqa: E402
from tests.log.old_databases.graphs import build  # noqa: E402
from tests.log.old_databases.views import config_of, document  # noqa: E402


def write(saver: SqliteSaver) -> None:
    """The runs of every thread, in the order they ran."""
    routes = build("routes", saver)
    for n in (0, 20, 1):
        routes.invoke({"n": n}, config_of("routes"))

    approval = build("approval", saver)
    approval.invoke({"topic": "cats"}, config_of("approval"))
    approval.invoke(Command(resume="yes"), config_of("approval"))
    approval.invoke({"topic": "dogs"}, config_of("approval"))
    approval.invoke(Command(resume="no"), config_of("approval"))

    nested = build("nested", saver)
    nested.invoke({"log": []}, config_of("nested"))
    nested.invoke(Command(resume="42"), config_of("nested"))
    nested.invoke({"log": ["again"]}, config_of("nested"))  # left waiting at the interrupt

    edits = build("edits", saver)
    edits.invoke({"log": ["start"]}, config_of("edits"))
    first = list(edits.get_state_history(config_of("edits")))
    before_b = _checkpoint(first, next_=("b",))
    before_c = _checkpoint(first, next_=("c",))
    edits.update_state(config_of("edits"), {"log": ["edited"]})
    edits.invoke({"log": ["second"]}, config_of("edits"))
    edits.invoke(None, config_of("edits", before_b))  # a fork from before b
    forked = edits.update_state(config_of("edits", before_c), {"count": 100}, as_node="b")
    edits.invoke(None, forked)  # a fork from an edited old checkpoint

    mapreduce = build("mapreduce", saver)
    mapreduce.invoke({"items": ["a", "bb", "ccc"]}, config_of("mapreduce"))
    mapreduce.invoke({"items": ["dddd"]}, config_of("mapreduce"))

    retries = build("retries", saver)
    retries.invoke({"fail": False, "log": []}, config_of("retries"))
    try:
        retries.invoke({"fail": True}, config_of("retries"))
    except ValueError:
        pass
    else:
        raise AssertionError("the retries thread's second run should fail")

    chat = build("chat", saver)
    for said in ("hello there", "how are you"):
        inputs = {"messages": [("user", said)]}
        for _ in chat.stream(inputs, config_of("chat"), stream_mode="messages"):
            pass


def _checkpoint(history: list[Any], *, next_: tuple[str, ...]) -> str:
    (snapshot,) = [s for s in history if tuple(s.next) == next_]
    checkpoint_id: str = snapshot.config["configurable"]["checkpoint_id"]
    return checkpoint_id


async def _document(path: Path) -> dict[str, Any]:
    saver = SqliteSaver(str(path))
    try:
        return await document(saver)
    finally:
        await saver.aclose()


def _one_item_a_line(document: dict[str, Any]) -> str:
    """``document`` as JSON, one item a line (a regenerated file diffs item by item)."""
    items = [
        f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False, separators=(',', ':'))}"
        for key, value in document.items()
    ]
    return "{\n" + ",\n".join(items) + "\n}\n"


def main() -> None:
    """Check the release, write the database, close it, write what it shows."""
    if migrations.head_revision() != OLD_REVISION:
        raise SystemExit(
            f"rewind at schema revision {migrations.head_revision()} is imported from "
            f"{migrations.__file__}; run this with rewind at commit a9e1771 (revision "
            f"{OLD_REVISION}), as the docstring says"
        )
    for stale in (DATABASE, *(DATABASE.with_name(DATABASE.name + s) for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    with SqliteSaver.from_conn_string(str(DATABASE)) as saver:
        write(saver)
    expected = asyncio.run(_document(DATABASE))
    EXPECTED.write_text(_one_item_a_line(expected))
    leftovers = [p.name for p in HERE.iterdir() if p.name.startswith(DATABASE.name + "-")]
    if leftovers:
        raise SystemExit(f"the database was not closed cleanly: {leftovers}")
    print(f"{DATABASE.name}: {DATABASE.stat().st_size:,} bytes; {len(expected)} views")


if __name__ == "__main__":
    main()
