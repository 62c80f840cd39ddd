#!/usr/bin/env python3
"""Peak memory of every process a sandbox tool starts, for bench/compare.sh.

    peak_rss.py COMMAND ARGS...

Starts COMMAND (typically `TOOL ... sleep 1`), polls /proc every 5 ms while it runs and
records, for each process of its tree, the largest VmHWM (peak resident set) seen. The
tree is found by parent pid, so it includes the sandbox's PID 1 and the command inside
(their host pids are visible to us). Prints one JSON object:
  {"rc": EXIT_STATUS, "processes": [{"depth": 0, "comm": "...", "hwm_kb": N}, ...]}
depth 0 is COMMAND itself, 1 its children, and so on. A process that lives less than one
polling interval can be missed: run something that lasts (sleep 1) inside.
"""
import json
import os
import subprocess
import sys
import time


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # comm may contain spaces and parentheses: the ppid is after the last ')'.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def status(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return None
    return fields


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    seen = {}  # pid -> {"depth", "comm", "hwm_kb"}
    while proc.poll() is None:
        kids = children_map()
        frontier = [(proc.pid, 0)]
        while frontier:
            pid, depth = frontier.pop()
            st = status(pid)
            if st and "VmHWM" in st:  # kernel threads and zombies have none
                hwm = int(st["VmHWM"].split()[0])
                rec = seen.setdefault(pid, {"depth": depth, "comm": st["Name"], "hwm_kb": 0})
                rec["comm"] = st["Name"]  # after an exec, the newest name
                rec["hwm_kb"] = max(rec["hwm_kb"], hwm)
            frontier.extend((k, depth + 1) for k in kids.get(pid, []))
        time.sleep(0.005)
    procs = sorted(seen.values(), key=lambda r: (r["depth"], r["comm"]))
    print(json.dumps({"rc": proc.returncode, "processes": procs}))


if __name__ == "__main__":
    main()
