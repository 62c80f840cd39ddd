"""The `aurora-jail` command line as Python calls (subprocess only, no shell)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

EXIT_INTERNAL = 125  # aurora-jail's own errors (policy refused, setup failed, ...)
EXIT_TIMEOUT = 124
# Extra seconds the caller waits beyond a run's own --timeout: aurora-jail enforces the
# timeout itself and needs a moment to tear the sandbox down and write its report.
RUN_GRACE_SEC = 30

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class AuroraJailError(RuntimeError):
    """aurora-jail refused or failed (its one-line reason is the message)."""

    def __init__(self, message: str, exit_code: int = EXIT_INTERNAL):
        super().__init__(message)
        self.exit_code = exit_code


def check_safe_name(name: str, what: str = "plugin id") -> str:
    """Ids and policy names are one safe directory entry, never a path."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} {name!r} is not a safe name ([A-Za-z0-9][A-Za-z0-9._-]{{0,63}}, no '..')")
    return name


def find_binary(binary: Optional[str] = None) -> str:
    """The aurora-jail executable: `binary`, else $AURORA_JAIL, else PATH."""
    candidate = binary or os.environ.get("AURORA_JAIL") or shutil.which("aurora-jail")
    if not candidate:
        raise AuroraJailError("aurora-jail not found on PATH (install the package or set AURORA_JAIL)")
    return candidate


def shell_argv(cmd: Union[str, Sequence[str]]) -> List[str]:
    """A string is a shell command (run by /bin/sh -c, as the prototype did); a list is argv."""
    if isinstance(cmd, str):
        if not cmd:
            raise ValueError("empty command")
        return ["/bin/sh", "-c", cmd]
    argv = list(cmd)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise ValueError("command must be a non-empty string or list of strings")
    return argv


@dataclass
class RunResult:
    rc: int
    stdout: str
    stderr: str
    timed_out: bool = False
    signal: Optional[int] = None
    report: Optional[dict] = None
    run_id: Optional[str] = None
    extra: dict = field(default_factory=dict)


class Jail:
    """One aurora-jail installation and state directory."""

    def __init__(self, binary: Optional[str] = None, state_dir: Optional[str] = None):
        self.binary = find_binary(binary)
        self.state_dir = state_dir or os.environ.get("AURORA_JAIL_STATE_DIR") or None

    # ---- plumbing
    def _state_args(self) -> List[str]:
        return ["--state-dir", self.state_dir] if self.state_dir else []

    def _call(self, args: Sequence[str], timeout: Optional[float] = None) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *args], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, check=False)

    def _check(self, args: Sequence[str]) -> str:
        proc = self._call(args)
        if proc.returncode != 0:
            raise AuroraJailError(_reason(proc.stderr), proc.returncode)
        return proc.stdout.decode("utf-8", "replace")

    def state_path(self) -> str:
        """The resolved state directory (what aurora-jail itself uses)."""
        if self.state_dir:
            return os.path.abspath(self.state_dir)
        if os.geteuid() == 0:
            return "/var/lib/aurora-jail"
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        return os.path.join(base, "aurora-jail")

    # ---- plugins
    def stage(self, package_dir: str) -> dict:
        """Validates and stages a package; returns {"id", "version", "path"}."""
        out = self._check(["stage", *self._state_args(), os.fspath(package_dir)])
        m = re.match(r"staged (\S+) (\S+) at (.+)", out.strip())
        if not m:
            raise AuroraJailError("unexpected output from aurora-jail stage: " + out.strip())
        return {"id": m.group(1), "version": m.group(2), "path": m.group(3)}

    def unstage(self, plugin_id: str) -> None:
        self._check(["unstage", *self._state_args(), check_safe_name(plugin_id)])

    def plugins(self) -> list:
        return json.loads(self._check(["plugins", "--json", *self._state_args()]) or "[]")

    # ---- runs
    def run(self, cmd: Union[str, Sequence[str], None] = None, plugin: Optional[str] = None,
            timeout: Optional[int] = None, memory_mb: Optional[int] = None,
            policy: Optional[str] = None, keep_run_dir: bool = False) -> RunResult:
        """Runs `cmd` (a shell string or an argv list; None: the plugin's entrypoint) in a
        sandbox and waits. memory_mb may only lower the policy's limit."""
        args = ["run"]
        if plugin:
            args += ["--plugin", check_safe_name(plugin), *self._state_args()]
            if not keep_run_dir:
                args.append("--rm")
        if policy:
            args += ["--policy", policy]
        if timeout is not None:
            args += ["--timeout", str(_positive_int(timeout, "timeout"))]
        if memory_mb is not None:
            args += ["--memory-mb", str(_positive_int(memory_mb, "memory_mb"))]
        with tempfile.TemporaryDirectory(prefix="aurora-jail-py-") as tmp:
            report_path = os.path.join(tmp, "report.json")
            args += ["--report", report_path]
            if cmd is not None:
                args += ["--", *shell_argv(cmd)]
            wait = None if timeout is None else timeout + RUN_GRACE_SEC
            proc = self._call(args, timeout=wait)
            report = _read_json(report_path)
        stdout = proc.stdout.decode("utf-8", "replace")
        stderr = proc.stderr.decode("utf-8", "replace")
        if report is None and proc.returncode == EXIT_INTERNAL:
            raise AuroraJailError(_reason(proc.stderr), proc.returncode)
        return RunResult(rc=proc.returncode, stdout=stdout, stderr=stderr,
                         timed_out=bool(report and report.get("timed_out")),
                         signal=report.get("signal") if report else None, report=report,
                         run_id=report.get("run_id") if report else None)

    def run_detached(self, cmd: Union[str, Sequence[str], None], plugin: str,
                     timeout: Optional[int] = None, memory_mb: Optional[int] = None) -> str:
        """Starts a background plugin run; returns its run id (see status/stop)."""
        args = ["run", "--detach", "--plugin", check_safe_name(plugin), *self._state_args()]
        if timeout is not None:
            args += ["--timeout", str(_positive_int(timeout, "timeout"))]
        if memory_mb is not None:
            args += ["--memory-mb", str(_positive_int(memory_mb, "memory_mb"))]
        if cmd is not None:
            args += ["--", *shell_argv(cmd)]
        return self._check(args).strip()

    def status(self, run_id: str) -> dict:
        """The background run's record: state, exit_code, report, run_dir."""
        return json.loads(self._check(["status", "--json", *self._state_args(), check_safe_name(run_id, "run id")]))

    def stop(self, run_id: str, grace: float = 10) -> None:
        self._check(["stop", *self._state_args(), "--grace", str(grace), check_safe_name(run_id, "run id")])

    # ---- policies
    def policy_validate(self, policy: dict) -> None:
        """Raises ValueError with aurora-jail's one-line reason when `policy` is invalid."""
        with tempfile.TemporaryDirectory(prefix="aurora-jail-py-") as tmp:
            path = os.path.join(tmp, "policy.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(policy, f)
            proc = self._call(["policy", "validate", path])
        if proc.returncode != 0:
            raise ValueError(_reason(proc.stderr).replace(path + ": ", ""))

    def policy_write(self, name: str, policy: dict, policy_dir: Optional[str] = None) -> str:
        """Validates and stores `policy` atomically as NAME; returns the stored file's path."""
        check_safe_name(name, "policy name")
        directory = policy_dir or os.path.join(self.state_path(), "policies")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="aurora-jail-py-") as tmp:
            path = os.path.join(tmp, name + ".json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(policy, f, indent=2)
            proc = self._call(["policy", "write", "--policy-dir", directory, name, path])
        if proc.returncode != 0:
            raise ValueError(_reason(proc.stderr).replace(path + ": ", ""))
        return proc.stdout.decode().strip()

    def policy_show(self, name: Optional[str] = None, policy_dir: Optional[str] = None) -> dict:
        """The normalised policy NAME (None: the built-in default), every default filled in."""
        args = ["policy", "show"]
        if name:
            args += ["--policy-dir", policy_dir or os.path.join(self.state_path(), "policies"), name]
        return json.loads(self._check(args))


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return int(-(-value // 1))  # whole seconds / MiB, rounded up


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _reason(stderr: bytes) -> str:
    lines = [l for l in stderr.decode("utf-8", "replace").splitlines() if l.strip()]
    text = lines[-1] if lines else "aurora-jail failed"
    return text[len("aurora-jail: "):] if text.startswith("aurora-jail: ") else text
