"""A throw-away local search node for one benchmark run, or an existing cluster named by --es-url."""
from __future__ import annotations

import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hotline import search_node


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def search_node_url(es_url: str | None, *, heap: str = "1g") -> Iterator[str]:
    """Yield `es_url` if given; else start a fresh node in a temp dir on a free port, and stop it after."""
    if es_url:
        yield es_url
        return
    with tempfile.TemporaryDirectory(prefix="hotline-bench-node-") as home:
        started = time.monotonic()
        node = search_node.start(Path(home), port=free_port(), heap=heap, fresh=True)
        print(f"search node {node.url} (pid {node.pid}) ready in {time.monotonic() - started:.0f}s",
              file=sys.stderr)
        try:
            yield node.url
        finally:
            search_node.stop(Path(home))
