"""Side by side with LangGraph's own server: the official SDK's calls, played against
``langgraph dev`` and ``rewind serve``, answered the same."""
