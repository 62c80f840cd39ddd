#!/usr/bin/env python3
"""Startup times of several commands, interleaved run by run.

hyperfine measures one command's runs in a block, then the next command's: on a shared
machine whose speed drifts over seconds, each block gets its own share of the drift, and
a ratio of two blocks mixes that drift in. Here every pass runs each command once (the
order reversed on every other pass, so no command always follows the same one), so all
commands see the same machine.

Usage: interleave.py --runs N [--warmup W] --export-json FILE -n NAME 'CMD ...' [-n NAME 'CMD ...']...
CMD is split into words as a shell would (no shell runs: like hyperfine -N). Output, in
hyperfine's JSON shape: {"results": [{"command": NAME, "times": [seconds, ...]}, ...]}.
"""
import argparse
import json
import os
import shlex
import shutil
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--export-json", required=True)
    ap.add_argument("-n", nargs=2, action="append", metavar=("NAME", "CMD"), required=True)
    a = ap.parse_args()
    devnull = os.open(os.devnull, os.O_RDWR)
    cmds = []
    for name, line in a.n:
        argv = shlex.split(line)
        path = shutil.which(argv[0])
        if not path:
            sys.exit(f"interleave.py: {argv[0]}: not found")
        cmds.append((name, path, argv))

    def run(path, argv):
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(path, argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)])
        _, status = os.waitpid(pid, 0)
        elapsed = (time.perf_counter_ns() - t0) / 1e9
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"interleave.py: {' '.join(argv)}: exit status {os.waitstatus_to_exitcode(status)}")
        return elapsed

    for _, path, argv in cmds:
        for _ in range(a.warmup):
            run(path, argv)
    times = {name: [] for name, _, _ in cmds}
    for i in range(a.runs):
        for name, path, argv in (cmds if i % 2 == 0 else cmds[::-1]):
            times[name].append(run(path, argv))
    with open(a.export_json, "w") as f:
        json.dump({"results": [{"command": name, "times": times[name]} for name, _, _ in cmds]}, f)


if __name__ == "__main__":
    main()
