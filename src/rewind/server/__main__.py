"""``python -m rewind.server --db PATH --graphs ID=FILE.py:ATTR [--config langgraph.json]``."""

from __future__ import annotations

import argparse
import os
import sys

from rewind.server.loader import GraphLoadError, parse_graph_option
from rewind.server.serve import serve


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m rewind.server", description="LangGraph's Platform API over a rewind log."
    )
    parser.add_argument("--db", default=os.environ.get("REWIND_DB", "rewind.db"))
    parser.add_argument("--graphs", nargs="*", default=[], metavar="ID=FILE.py:ATTR")
    parser.add_argument("--config", default=None, help="a langgraph.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2024)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--cors-origin", action="append", default=None, dest="cors_origins")
    args = parser.parse_args(argv)
    try:
        graphs = dict(parse_graph_option(g) for g in args.graphs)
        serve(
            args.db,
            graphs=graphs,
            config=args.config,
            host=args.host,
            port=args.port,
            api_key=args.api_key,
            cors_origins=args.cors_origins,
        )
    except (GraphLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
