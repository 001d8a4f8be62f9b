"""Pure folds from events to outputs: state, stream modes, history (coming next)."""
