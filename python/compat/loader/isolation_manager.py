"""IsolationManager, as the prototype had it: stage_plugin and request_run. Requests go
to the aurora-jail host daemon's queue (written atomically; the prototype's NAME.req
layout, answered as responses/NAME.req.result.json or .error.json)."""

import json
import os
import time
from pathlib import Path
from typing import Optional

from aurora_jail.cli import Jail, check_safe_name
from aurora_jail.queue import write_atomic


class IsolationManager:
    def __init__(self, jail: Optional[Jail] = None, queue_dir: Optional[str] = None):
        # The prototype imported another pack's registry here; aurora-jail's plugin store
        # (`aurora-jail plugins`) is the registry now.
        self._jail = jail or Jail()
        self.queue_dir = Path(queue_dir or os.environ.get("AURORA_JAIL_QUEUE_DIR")
                              or os.path.join(self._jail.state_path(), "queue"))
        self.req_dir = self.queue_dir / "requests"
        self.req_dir.mkdir(parents=True, exist_ok=True)

    def stage_plugin(self, package_dir: str):
        p = Path(package_dir)
        if not p.exists():
            raise FileNotFoundError(p)
        return self._jail.stage(str(p))["path"]

    def request_run(self, plugin_id: str, cmd: str, timeout: int = 10):
        req = {"plugin": check_safe_name(plugin_id), "cmd": cmd, "timeout": timeout}
        fname = f"{plugin_id}-{int(time.time() * 1000)}.req"
        # Never overwrite a request not yet served: the next millisecond's name instead.
        while (self.req_dir / fname).exists():
            time.sleep(0.001)
            fname = f"{plugin_id}-{int(time.time() * 1000)}.req"
        return write_atomic(str(self.req_dir), fname, json.dumps(req))
