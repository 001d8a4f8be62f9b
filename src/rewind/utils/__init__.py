"""LangGraph's legacy ``langgraph.utils`` package (kept there for backward compatibility)."""
