"""The host daemon's request queue (`aurora-jail host`), from Python: write a request
atomically, wait for its one response. The layout and the exactly-once rule are the
daemon's (runner/queue.hpp, docs/migrating.md)."""

import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from aurora_jail.cli import Jail, check_safe_name


@dataclass
class Response:
    is_error: bool
    body: dict


class Queue:
    """`queue_dir` holds requests/ and responses/ (default STATE/queue of `jail`)."""

    def __init__(self, jail: Optional[Jail] = None, queue_dir: Optional[str] = None):
        if queue_dir is None:
            queue_dir = os.path.join((jail or Jail()).state_path(), "queue")
        self.dir = os.path.abspath(queue_dir)
        self.requests = os.path.join(self.dir, "requests")
        self.responses = os.path.join(self.dir, "responses")

    def submit(self, plugin: str, cmd: Union[str, Sequence[str], None] = None,
               timeout: Optional[int] = None, memory_mb: Optional[int] = None,
               prototype_layout: bool = False) -> str:
        """Queues a request; returns its NAME (the response is NAME.result.json or
        NAME.error.json). prototype_layout writes NAME.req, answered in the prototype's
        nested layout instead."""
        req = {"plugin": check_safe_name(plugin)}
        if cmd is not None:
            req["cmd"] = cmd if isinstance(cmd, str) else list(cmd)
        if timeout is not None:
            req["timeout"] = timeout
        if memory_mb is not None:
            req["memory_mb"] = memory_mb
        stem = f"{plugin}-{int(time.time() * 1000)}-{os.getpid()}-{secrets.token_hex(4)}"
        name = stem + ".req" if prototype_layout else stem
        write_atomic(self.requests, name if prototype_layout else name + ".json", json.dumps(req))
        return name

    def find(self, name: str) -> Optional[Response]:
        for is_error, suffix in ((False, ".result.json"), (True, ".error.json")):
            try:
                with open(os.path.join(self.responses, name + suffix), encoding="utf-8") as f:
                    return Response(is_error, json.load(f))
            except FileNotFoundError:
                continue
        return None

    def wait(self, name: str, timeout: Optional[float] = None, poll: float = 0.1) -> Response:
        """Blocks until NAME's response exists; TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            resp = self.find(name)
            if resp is not None:
                return resp
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"no response to {name} after {timeout}s (is `aurora-jail host` running?)")
            time.sleep(poll)


def write_atomic(directory: str, name: str, text: str) -> str:
    """Writes DIRECTORY/NAME whole or not at all: a dot-named temp file (never taken for a
    request), fsync, rename."""
    tmp = os.path.join(directory, f".{name}.tmp-{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return os.path.join(directory, name)
