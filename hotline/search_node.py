"""The local Elasticsearch node for development and tests, run from Maven Central artifacts.

The Java side lives in `search_node/` (one main class over MockNode + Netty4); this module builds it with
Maven, starts it, waits until the cluster is yellow, and stops it. Production never uses it: there,
ES_URL names the province's own cluster.
"""
from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent / "search_node"
MAIN_CLASS: Final = "hotline.searchnode.SearchNode"
READY_PATTERN: Final = re.compile(r"SEARCH_NODE_READY http=([\d.]+):(\d+)")
PID_FILE: Final = "node.pid"
LOG_FILE: Final = "node.log"
URL_FILE: Final = "node.url"


class SearchNodeError(RuntimeError):
    """The local search node could not be built, started or stopped."""


@dataclass(frozen=True, slots=True)
class RunningNode:
    """A node that answered its health check."""

    pid: int
    url: str


def _classpath_file() -> Path:
    return PROJECT_DIR / "target" / "classpath.txt"


def _build_stamp() -> Path:
    return PROJECT_DIR / "target" / "build.stamp"


def _is_built() -> bool:
    # Maven leaves unchanged outputs untouched, so freshness is judged by a stamp written after each build.
    stamp, cp = _build_stamp(), _classpath_file()
    if not (stamp.exists() and cp.exists()):
        return False
    newest_source = max(p.stat().st_mtime for p in [PROJECT_DIR / "pom.xml", *PROJECT_DIR.rglob("*.java")])
    if stamp.stat().st_mtime < newest_source:
        return False
    return all(Path(jar).exists() for jar in cp.read_text().strip().split(os.pathsep))


def ensure_built() -> None:
    """Compile the launcher and resolve its jars with Maven, unless already up to date."""
    if _is_built():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise SearchNodeError("Maven (mvn) is not on PATH; it is needed to fetch Elasticsearch from Maven Central")
    log.info("building search node launcher in %s", PROJECT_DIR)
    cmd = [mvn, "-q", "-B", "-f", str(PROJECT_DIR / "pom.xml"), "compile", "dependency:build-classpath",
           f"-Dmdep.outputFile={_classpath_file()}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SearchNodeError(f"Maven build of the search node failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    _build_stamp().touch()


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java:
        raise SearchNodeError("java is not on PATH (Java 17 is needed)")
    return java


def _privilege_prefix() -> list[str]:
    # Elasticsearch refuses to run as root. As root (CI and this machine run as root) the JVM runs in a
    # user namespace as an unprivileged uid; it keeps root's file access but has no privileges.
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        raise SearchNodeError("running as root needs util-linux 'unshare' to start Elasticsearch unprivileged")
    return [unshare, "--user", "--map-user=1000", "--map-group=1000"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def cluster_health(url: str, *, wait_s: int = 0) -> dict[str, object] | None:
    """Return `_cluster/health`, waiting up to wait_s for yellow; None if the node does not answer."""
    query = f"?wait_for_status=yellow&timeout={wait_s}s" if wait_s else ""
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health{query}", timeout=wait_s + 5) as resp:
            body: dict[str, object] = json.load(resp)
            return body
    except (urllib.error.URLError, OSError, ValueError):
        return None


def read_running(home: Path) -> RunningNode | None:
    """The node recorded under `home`, if its process is still alive."""
    try:
        pid = int((home / PID_FILE).read_text())
        url = (home / URL_FILE).read_text().strip()
    except (OSError, ValueError):
        return None
    return RunningNode(pid, url) if _alive(pid) else None


def start(home: Path, *, port: int, heap: str = "1g", fresh: bool = False, timeout_s: float = 180) -> RunningNode:
    """Start a node with its data under `home` (or return the one already running there)."""
    home = home.resolve()
    running = read_running(home)
    if running is not None:
        if cluster_health(running.url) is not None:
            return running
        stop(home)
    ensure_built()
    if fresh:
        shutil.rmtree(home / "data", ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    log_path = home / LOG_FILE
    log_path.write_bytes(b"")
    classpath = os.pathsep.join([str(PROJECT_DIR / "target" / "classes"), _classpath_file().read_text().strip()])
    cmd = [
        *_privilege_prefix(), _java(), f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC",
        # The test bootstrap would otherwise install a security manager and a seccomp filter.
        "-Dtests.security.manager=false", "-Dtests.system_call_filter=false",
        "-Dlog4j2.disable.jmx=true", "-Dfile.encoding=UTF-8",
        "-cp", classpath, MAIN_CLASS, str(home), str(port),
    ]
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    (home / PID_FILE).write_text(str(proc.pid))
    deadline = time.monotonic() + timeout_s
    url = None
    while url is None:
        match = READY_PATTERN.search(log_path.read_text(errors="replace"))
        if match:
            url = f"http://{match.group(1)}:{match.group(2)}"
        elif proc.poll() is not None:
            raise SearchNodeError(f"search node exited with {proc.returncode}; last log lines:\n{_tail(log_path)}")
        elif time.monotonic() > deadline:
            _terminate(proc.pid)
            raise SearchNodeError(f"search node not ready after {timeout_s:.0f}s; see {log_path}")
        else:
            time.sleep(0.2)
    (home / URL_FILE).write_text(url)
    if cluster_health(url, wait_s=int(max(1, deadline - time.monotonic()))) is None:
        _terminate(proc.pid)
        raise SearchNodeError(f"search node bound {url} but its cluster never became yellow; see {log_path}")
    log.info("search node ready at %s (pid %s)", url, proc.pid)
    return RunningNode(proc.pid, url)


def _tail(path: Path) -> str:
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(line for line in text if not line.startswith("\tat "))[-4000:] if text else "(empty log)"


def _terminate(pid: int, timeout_s: float = 30) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:  # reap it if it is our child; otherwise just poll
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            if not _alive(pid):
                return
        time.sleep(0.1)
    log.warning("search node %s ignored SIGTERM for %.0fs; killing it", pid, timeout_s)
    os.kill(pid, signal.SIGKILL)


def stop(home: Path) -> bool:
    """Stop the node recorded under `home`; True if one was running."""
    home = home.resolve()
    running = read_running(home)
    for name in (PID_FILE, URL_FILE):
        (home / name).unlink(missing_ok=True)
    if running is None:
        return False
    _terminate(running.pid)
    return True


@contextmanager
def running_node(home: Path, *, port: int, heap: str = "1g", fresh: bool = False) -> Iterator[RunningNode]:
    """Start a node for the duration of a block and stop it afterwards; a node already running is reused."""
    existing = read_running(home.resolve())
    if existing is not None and not fresh and cluster_health(existing.url) is not None:
        yield existing
        return
    node = start(home, port=port, heap=heap, fresh=fresh)
    try:
        yield node
    finally:
        stop(home)
