"""The launcher starts a second, real node in its own folder and stops it."""
from __future__ import annotations

from pathlib import Path

from hotline import search_node


def test_start_serves_a_green_cluster_and_stop_ends_the_process(tmp_path: Path) -> None:
    node = search_node.start(tmp_path / "node", port=0, heap="256m")
    try:
        health = search_node.cluster_health(node.url)
        assert health is not None and health["status"] == "green"
        assert search_node.read_running(tmp_path / "node") == node
    finally:
        assert search_node.stop(tmp_path / "node")

    assert search_node.read_running(tmp_path / "node") is None
    assert search_node.cluster_health(node.url) is None
    assert not search_node.stop(tmp_path / "node")
