"""The helpers of rewind.checkpoint.base give what LangGraph's give."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint import base as lg
from langgraph.checkpoint.base import id as lg_id

from rewind.checkpoint import base
from rewind.checkpoint.base import id as rw_id
from rewind.checkpoint.serde.jsonplus import JsonPlusSerializer


def test_uuid6_ids_sort_by_time_and_read_as_langgraphs() -> None:
    ids = [rw_id.uuid6(clock_seq=i) for i in range(50)]
    assert ids == sorted(ids, key=str) and len(set(ids)) == 50
    assert all(u.version == 6 for u in ids)
    theirs = lg_id.uuid6()
    assert str(ids[-1]) < str(theirs)  # one clock, one layout
    again = lg_id.UUID(str(ids[0]))
    assert again.time == ids[0].time and rw_id.UUID(str(theirs)).time == theirs.time


def test_checkpoint_metadata_from_a_config_as_langgraphs() -> None:
    config: Any = {
        "configurable": {"thread_id": "t", "user": "u\u0000v", "n": 3, "obj": object()},
        "metadata": {"tag": "x", "__private": 1, "langgraph_step": 2},
    }
    metadata: Any = {"source": "loop", "step": 1, "writes": {"a": 1}}
    assert base.get_checkpoint_metadata(config, metadata) == lg.get_checkpoint_metadata(
        config, metadata
    )
    assert base.get_serializable_checkpoint_metadata(
        config, metadata
    ) == lg.get_serializable_checkpoint_metadata(config, metadata)
    assert base.get_checkpoint_id({"configurable": {"checkpoint_id": "c"}}) == "c"
    assert base.writes_sort_key("p", "t", 2) == lg.writes_sort_key("p", "t", 2)
    assert base.WRITES_IDX_MAP == lg.WRITES_IDX_MAP


def test_empty_create_and_copy_checkpoint_have_langgraphs_shape() -> None:
    ours, theirs = base.empty_checkpoint(), lg.empty_checkpoint()
    assert set(ours) == set(theirs) and ours["v"] == theirs["v"]

    class Channel:
        def __init__(self, value: Any) -> None:
            self.value = value

        def checkpoint(self) -> Any:
            if self.value is None:
                raise base.EmptyChannelError()
            return self.value

    ours["channel_versions"] = {"a": 1, "b": 1}
    made: Any = base.create_checkpoint(ours, {"a": Channel(1), "b": Channel(None)}, 3)
    assert made["channel_values"] == {"a": 1} and made["id"] > ours["id"]
    copied = base.copy_checkpoint(made)
    copied["channel_values"]["a"] = 2
    assert made["channel_values"] == {"a": 1}


def test_the_delta_walk_and_versions() -> None:
    class Chain(base.BaseCheckpointSaver[int]):
        def get_tuple(self, config: Any) -> base.CheckpointTuple | None:
            n = config["configurable"]["n"]
            checkpoint: Any = {"channel_values": {"a": "seed"} if n == 0 else {}}
            parent = {"configurable": {"n": n - 1}} if n > 0 else None
            return base.CheckpointTuple(config, checkpoint, {}, parent, [(f"t{n}", "a", n)])

    saver = Chain()
    history = saver.get_delta_channel_history(config={"configurable": {"n": 3}}, channels=["a"])
    assert history == {
        "a": {"writes": [("t0", "a", 0), ("t1", "a", 1), ("t2", "a", 2)], "seed": "seed"}
    }
    assert saver.get_next_version(None, None) == 1 and saver.get_next_version(1, None) == 2
    assert saver.with_allowlist([("m", "C")]) is saver  # the default loads any type already
    strict = Chain(serde=JsonPlusSerializer(allowed_msgpack_modules=None))
    widened = strict.with_allowlist([("m", "C")])
    assert widened is not strict and isinstance(widened.serde, JsonPlusSerializer)


def test_create_checkpoint_of_rewinds_channels_as_of_langgraphs() -> None:
    from langgraph.channels import LastValue as LgLastValue
    from langgraph.channels import Topic as LgTopic

    from rewind.channels import LastValue, Topic

    def made(module: Any, last: Any, topic: Any) -> Any:
        a, t = last(int), topic(str, accumulate=True)
        a.update([3])
        t.update(["x", "y"])
        checkpoint = module.empty_checkpoint()
        checkpoint["channel_versions"] = {"a": 1, "t": 1}
        return module.create_checkpoint(checkpoint, {"a": a, "t": t, "unversioned": a}, 1)

    ours, theirs = made(base, LastValue, Topic), made(lg, LgLastValue, LgTopic)
    assert ours["channel_values"] == theirs["channel_values"] == {"a": 3, "t": ["x", "y"]}
