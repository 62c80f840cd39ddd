"""SandboxRuntime, as the prototype had it: stage_package, run_entry(timeout, background,
memory_mb), stop, status. Each run is a real aurora-jail sandbox of the staged plugin: its
working directory starts with the package's files (a copy-on-write view; writes never
reach the store), and its limits are enforced by the kernel."""

import threading
import time
from pathlib import Path
from typing import Optional

from aurora_jail.cli import AuroraJailError, Jail, check_safe_name

EXIT_TIMEOUT = 124


class SandboxRuntime:
    def __init__(self, plugin_id: str, jail: Optional[Jail] = None):
        # The prototype used the id as a path unchecked; here it must be one safe name.
        self.plugin_id = check_safe_name(plugin_id)
        self._jail = jail or Jail()
        self._last_run = None
        self._run_id = None  # the background run, if any
        self._lock = threading.Lock()

    def stage_package(self, src_dir: str):
        p = Path(src_dir)
        if not p.exists():
            raise FileNotFoundError(p)
        staged = self._jail.stage(str(p))
        if staged["id"] != self.plugin_id:
            # The store is keyed by the manifest's id: staging another id under this
            # runtime's name would run the wrong plugin later.
            self._jail.unstage(staged["id"])
            raise ValueError(f"package {p} has manifest id {staged['id']}, not {self.plugin_id}")
        return True

    def run_entry(self, entry_cmd, timeout: int = 30, background: bool = False, memory_mb: int = None):
        if background:
            try:
                run_id = self._jail.run_detached(entry_cmd, self.plugin_id, timeout=timeout, memory_mb=memory_mb)
            except AuroraJailError as e:
                self._last_run = _failed(e)
                return {"ok": False, "background": True, "error": str(e)}
            with self._lock:
                self._run_id = run_id
            return {"ok": True, "background": True, "run_id": run_id}
        try:
            res = self._jail.run(entry_cmd, plugin=self.plugin_id, timeout=timeout, memory_mb=memory_mb)
        except AuroraJailError as e:
            self._last_run = _failed(e)
            return self._last_run
        self._last_run = _prototype_result(res.rc, res.stdout, res.stderr, res.timed_out, res.signal, res.report)
        return self._last_run

    def stop(self):
        with self._lock:
            run_id = self._run_id
        if not run_id:
            return False
        try:
            self._jail.stop(run_id, grace=2)
        except AuroraJailError:
            return False
        return True

    def status(self):
        with self._lock:
            run_id = self._run_id
        if run_id:
            self._refresh_background(run_id)
        return {"plugin": self.plugin_id, "last_run": self._last_run}

    def _refresh_background(self, run_id: str):
        try:
            st = self._jail.status(run_id)
        except AuroraJailError:
            return
        if st.get("state") in ("starting", "running"):
            return
        run_dir = Path(st.get("run_dir", ""))
        report = st.get("report") or {}
        self._last_run = _prototype_result(
            st.get("exit_code") if st.get("exit_code") is not None else -1,
            _read(run_dir / "stdout.log"), _read(run_dir / "stderr.log"),
            bool(report.get("timed_out")), report.get("signal"), report or None)


def _prototype_result(rc, stdout, stderr, timed_out, signal, report):
    """The prototype's shape: {"rc", "stdout", "stderr", "ts"} (+ "timeout": True and rc -1
    on a timeout; -N when killed by signal N, as subprocess reported it). aurora-jail's own
    exit status and report sit beside them."""
    out = {"rc": rc, "stdout": stdout, "stderr": stderr, "ts": time.time(), "exit_code": rc}
    if timed_out:
        out["rc"] = -1
        out["timeout"] = True
    elif signal:
        out["rc"] = -int(signal)
    if report is not None:
        out["report"] = report
    return out


def _failed(e: AuroraJailError):
    return {"rc": e.exit_code, "stdout": "", "stderr": str(e), "ts": time.time(), "exit_code": e.exit_code,
            "error": str(e)}


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""
