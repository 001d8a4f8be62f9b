"""LangGraph's checkpoint serializers, written for rewind.

``JsonPlusSerializer().dumps_typed(obj)`` gives the ``(type, bytes)`` pairs LangGraph's own
serializer gives (msgpack with LangGraph's extension codes), so bytes written by either library
load in the other. rewind's event log does not store through them: it has its own codec
(:mod:`rewind.log.codec`); a saver keeps the serializer it was given as ``saver.serde``.
"""
