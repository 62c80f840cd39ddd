"""sandbox_host, as the prototype had it: main_loop() serves data/requests/*.req. It is
`aurora-jail host` now (each request in its own sandbox, answered exactly once, even
across crashes), serving the queue directory in place."""

import os
import sys

from aurora_jail.cli import Jail


def main_loop(poll_interval=0.5, queue_dir=None, workers=2):
    # poll_interval is kept for the signature: the daemon is woken by inotify.
    jail = Jail()
    args = [jail.binary, "host", "--workers", str(workers)]
    if jail.state_dir:
        args += ["--state-dir", jail.state_dir]
    queue_dir = queue_dir or os.environ.get("AURORA_JAIL_QUEUE_DIR")
    if queue_dir:
        args += ["--queue-dir", queue_dir]
    os.execv(jail.binary, args)


if __name__ == "__main__":
    main_loop(queue_dir=sys.argv[1] if len(sys.argv) > 1 else None)
