"""OpenTelemetry spans built from the log, live and after the fact (coming next)."""
