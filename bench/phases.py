#!/usr/bin/env python3
"""Where a sandbox start's wall time goes, phase by phase, for aurora-jail and bwrap.

Input: `perf script -F comm,pid,tid,cpu,time,event` of a system-wide (-a) recording of the
tracepoints syscalls:sys_enter_execve, sys_enter_clone, sys_exit_clone and
sys_enter_exit_group while `sh -c 'for ...; do aurora-jail run ... /bin/true; bwrap ... /bin/true; done'`
ran. System-wide: a per-task recording is inherited by every fork, which makes each
fork and clone much slower than it is.

Output: Markdown, the median of each phase in ms per tool, and the difference.
Usage: phases.py PERF_SCRIPT_TEXT
"""
import statistics
import sys

PHASES = [
    ("start", "exec of the tool to its namespace clone: dynamic linking, start-up, "
              "argument and policy parsing, planning"),
    ("clone", "the clone call that creates the namespaces (the network namespace most)"),
    ("child_runs", "clone's return in the parent to the child's first instruction"),
    ("setup", "the child: id maps, root file system, loopback, capabilities, forking the "
              "command, seccomp (aurora-jail), up to the command's execve"),
    ("command", "/bin/true itself: its execve to its exit"),
    ("teardown", "the command's exit to the tool's exit (reaping, status, report)"),
]


def parse(path):
    runs, cur = [], None
    for line in open(path):
        f = line.split()
        if len(f) < 5:
            continue
        comm, pid, time, event = f[0], int(f[1].split("/")[0]), float(f[3].rstrip(":")), f[4].rstrip(":")
        if comm == "sh" and event.endswith("sys_enter_execve"):
            cur = {"start": time, "events": []}
            runs.append(cur)
        elif cur is not None:
            cur["events"].append((comm, pid, time, event))
    return runs


def phases(run):
    ev = run["events"]
    if not ev:
        return None, None
    tool, top = ev[0][0], ev[0][1]
    first = lambda cond: next((t for c, p, t, e in ev if cond(c, p, e)), None)
    clone_in = first(lambda c, p, e: p == top and e.endswith("sys_enter_clone"))
    clone_out = first(lambda c, p, e: p == top and e.endswith("sys_exit_clone"))
    child = first(lambda c, p, e: p != top and e.endswith("sys_exit_clone"))
    cmd_exec = [t for c, p, t, e in ev if e.endswith("sys_enter_execve")]
    cmd_exit = first(lambda c, p, e: c == "true" and e.endswith("sys_enter_exit_group"))
    top_exit = first(lambda c, p, e: p == top and e.endswith("sys_enter_exit_group"))
    if None in (clone_in, clone_out, child, cmd_exit, top_exit) or not cmd_exec:
        return tool, None
    return tool, {"start": clone_in - run["start"], "clone": clone_out - clone_in,
                  "child_runs": child - clone_out, "setup": cmd_exec[-1] - child,
                  "command": cmd_exit - cmd_exec[-1], "teardown": top_exit - cmd_exit,
                  "total": top_exit - run["start"]}


def main():
    by_tool = {}
    for run in parse(sys.argv[1]):
        tool, p = phases(run)
        if p:
            by_tool.setdefault(tool, []).append(p)
    tools = [t for t in ("aurora-jail", "bwrap") if t in by_tool]
    if len(tools) < 2:
        print("(phases: not enough complete runs of both tools in the recording)")
        return
    med = {t: {k: statistics.median(r[k] for r in by_tool[t]) * 1000 for k in by_tool[t][0]} for t in tools}
    n = min(len(by_tool[t]) for t in tools)
    print(f"Medians of {n} runs each, ms (aurora-jail with the bwrap-equivalent policy, alternating "
          "with bwrap; from syscall tracepoints recorded system-wide):")
    print()
    print("| phase | aurora-jail | bwrap | difference | what happens |")
    print("|---|---:|---:|---:|---|")
    for key, what in PHASES + [("total", "exec to exit of the tool")]:
        a, b = med["aurora-jail"][key], med["bwrap"][key]
        print(f"| {key} | {a:.3f} | {b:.3f} | {a - b:+.3f} | {what} |")


if __name__ == "__main__":
    main()
