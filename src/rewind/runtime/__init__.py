"""The graph runtime: StateGraph, the super-step executor and the recorder (coming next)."""
