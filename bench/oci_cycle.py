#!/usr/bin/env python3
"""OCI runtimes' container cycle, interleaved pass by pass: create, start, the process's
exit, delete, for each runtime in turn (the order reversed on every other pass, so all see
the same machine, as bench/interleave.py does for single commands).

Usage: oci_cycle.py --runs N [--warmup W] --bundle DIR --export-json FILE
                    -n NAME 'RUNTIME [GLOBAL FLAGS...]' [-n NAME '...']...

Each runtime is driven through runc's command line: `RT create --bundle DIR --pid-file P ID`,
`RT start ID`, then this process waits for the pid file's process to end (it is this
process's child: this process is a child subreaper, so the detached process is reparented
to it), then `RT delete ID`. The bundle's config.json decides what runs (bench/oci_startup.sh
writes one running /bin/true). Output, in hyperfine's JSON shape:
{"results": [{"command": NAME, "times": [seconds, ...], "phases": {...}}, ...]}.
"""
import argparse
import ctypes
import json
import os
import shlex
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--export-json", required=True)
    ap.add_argument("-n", nargs=2, action="append", metavar=("NAME", "RUNTIME"), required=True)
    a = ap.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"oci_cycle.py: PR_SET_CHILD_SUBREAPER: {os.strerror(ctypes.get_errno())}")
    devnull = os.open(os.devnull, os.O_RDWR)
    pid_file = os.path.join(a.bundle, "bench.pid")
    runtimes = [(name, shlex.split(line)) for name, line in a.n]
    counter = [0]

    def call(argv):
        pid = os.posix_spawn(argv[0], argv, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1)])
        while True:
            got, status = os.waitpid(pid, 0)
            if got == pid:
                break
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"oci_cycle.py: {' '.join(argv)}: exit status {os.waitstatus_to_exitcode(status)}")

    def reap(target):
        # Reaps reparented processes until `target` is among them (others are a runtime's
        # own leftovers, reaped on the way).
        while True:
            got, _ = os.waitpid(-1, 0)
            if got == target:
                return

    def cycle(rt):
        counter[0] += 1
        cid = f"ajbench-{os.getpid()}-{counter[0]}"
        if os.path.exists(pid_file):
            os.unlink(pid_file)
        t0 = time.perf_counter_ns()
        call(rt + ["create", "--bundle", a.bundle, "--pid-file", pid_file, cid])
        t1 = time.perf_counter_ns()
        call(rt + ["start", cid])
        t2 = time.perf_counter_ns()
        with open(pid_file) as f:
            reap(int(f.read().strip()))
        t3 = time.perf_counter_ns()
        call(rt + ["delete", cid])
        t4 = time.perf_counter_ns()
        return [(t4 - t0) / 1e9, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, (t4 - t3) / 1e9]

    for _, rt in runtimes:
        for _ in range(a.warmup):
            cycle(rt)
    times = {name: [] for name, _ in runtimes}
    for i in range(a.runs):
        for name, rt in (runtimes if i % 2 == 0 else runtimes[::-1]):
            times[name].append(cycle(rt))
    out = []
    for name, _ in runtimes:
        rows = times[name]
        out.append({"command": name, "times": [r[0] for r in rows],
                    "phases": {p: [r[k + 1] for r in rows] for k, p in
                               enumerate(["create", "start", "run", "delete"])}})
    with open(a.export_json, "w") as f:
        json.dump({"results": out}, f)


if __name__ == "__main__":
    main()
