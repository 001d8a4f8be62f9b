"""LangGraph's channels: what each key of a state (or each channel of a ``Pregel``) holds and
how a super-step's writes combine into it.

In a state annotation (``Annotated[list[str], Topic(str, accumulate=True)]``,
``Annotated[str, EphemeralValue]``) a channel gives the key its behaviour, as in LangGraph;
rewind records the value after each step's writes in the run's log.
"""

from rewind.channels.any_value import AnyValue
from rewind.channels.base import BaseChannel
from rewind.channels.binop import BinaryOperatorAggregate
from rewind.channels.delta import DeltaChannel
from rewind.channels.ephemeral_value import EphemeralValue
from rewind.channels.last_value import LastValue, LastValueAfterFinish
from rewind.channels.named_barrier_value import NamedBarrierValue, NamedBarrierValueAfterFinish
from rewind.channels.topic import Topic
from rewind.channels.untracked_value import UntrackedValue

__all__ = (
    "BaseChannel",
    "AnyValue",
    "LastValue",
    "LastValueAfterFinish",
    "UntrackedValue",
    "EphemeralValue",
    "BinaryOperatorAggregate",
    "DeltaChannel",
    "NamedBarrierValue",
    "NamedBarrierValueAfterFinish",
    "Topic",
)
