"""aurora_jail: a small, stdlib-only Python API over the aurora-jail command line.

Every call runs the `aurora-jail` binary (found on PATH, or given explicitly), so the
sandboxing is the real one: namespaces, seccomp, Landlock, cgroups, rlimits.

    from aurora_jail import Jail, Queue
    jail = Jail()                                   # state dir: $AURORA_JAIL_STATE_DIR or the default
    jail.stage("./hello")                           # -> {"id": "acme.hello", "path": ...}
    res = jail.run("echo hi; exit 3", plugin="acme.hello", timeout=5, memory_mb=64)
    res.rc, res.stdout, res.stderr, res.timed_out, res.report

    q = Queue(jail)                                 # the host daemon's queue (STATE/queue)
    name = q.submit("acme.hello", "sh run.sh", timeout=5)
    q.wait(name, timeout=30)                        # -> Response(is_error, body)
"""

from aurora_jail.cli import AuroraJailError, Jail, RunResult, find_binary
from aurora_jail.queue import Queue, Response

__all__ = ["AuroraJailError", "Jail", "RunResult", "Queue", "Response", "find_binary"]
__version__ = "0.1.0"
