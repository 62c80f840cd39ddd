"""jail_policy, as the prototype had it: write_policy, load_policy, validate_policy. The
schema is aurora-jail's (a superset of the prototype's: allowed_paths, blocked_syscalls,
max_memory_mb, max_cpu_sec, ...), validated by aurora-jail itself and enforced by the
kernel. Policies live in STATE/policies, where a plugin manifest's "policy" is found."""

import json
import os
from pathlib import Path

from aurora_jail.cli import Jail, check_safe_name

_jail = None


def _j() -> Jail:
    global _jail
    if _jail is None:
        _jail = Jail()
    return _jail


def policy_dir() -> Path:
    return Path(os.environ.get("AURORA_JAIL_POLICY_DIR") or os.path.join(_j().state_path(), "policies"))


def write_policy(name: str, policy: dict):
    return _j().policy_write(check_safe_name(name, "policy name"), policy, str(policy_dir()))


def load_policy(name: str):
    p = policy_dir() / f"{check_safe_name(name, 'policy name')}.json"
    if not p.exists():
        # aurora-jail's built-in default policy (the prototype wrote an unlimited one to disk).
        return _j().policy_show()
    return json.loads(p.read_text())


def validate_policy(policy: dict):
    if not isinstance(policy, dict):
        raise ValueError("policy must be a JSON object (dict)")
    _j().policy_validate(policy)
    return True
