#!/usr/bin/env python3
"""Turns what bench/compare.sh measured into Markdown (stdout, and OUT unless OUT is "-").

    compare_report.py RESULTS_DIR OUT WORK_DIR RUNS ROUNDS CALLS PROFILED

Only medians are compared (the machine is shared: means are dragged by outliers). Two
blocks of an existing OUT survive a rerun: the profile (between the profile markers),
unless this run made a new one, and the hand-written notes (between the notes markers).
"""
import json
import os
import re
import statistics
import sys

res, out, work, runs, rounds, calls = sys.argv[1:7]
profiled = sys.argv[7] == "1"
MARK = {k: (f"<!-- {k}:begin -->", f"<!-- {k}:end -->") for k in ("profile", "notes")}


def path(name):
    return os.path.join(res, name)


def read(name, default=""):
    try:
        with open(path(name)) as f:
            return f.read()
    except FileNotFoundError:
        return default


def tsv(name):
    return [line.split("\t", 1) for line in read(name).splitlines() if "\t" in line]


def hide(text):
    return text.replace(work, "$W")


def old_block(key):
    try:
        text = open(out).read()
    except (FileNotFoundError, IsADirectoryError):
        return None
    begin, end = MARK[key]
    m = re.search(re.escape(begin) + r"\n(.*?)" + re.escape(end), text, re.S)
    return m.group(1) if m else None


def keep_old_block(key, placeholder):
    """The block from the previous results file, or the placeholder line."""
    prev = old_block(key)
    if prev:
        lines.append(prev.rstrip("\n"))
    else:
        emit(placeholder)


skipped = dict(tsv("skipped.tsv"))
lines = []
emit = lines.append

emit("# aurora-jail vs bubblewrap, firejail and crun")
emit("")
emit("Produced by `bash bench/compare.sh` in one run. Figures are **medians**; on a shared "
     "machine the noise between runs can exceed the differences: compare the ratios within "
     "this run, not absolute numbers across runs.")
emit("")
emit("## Machine")
emit("")
emit("| | |")
emit("|---|---|")
for k, v in tsv("machine.tsv"):
    emit(f"| {k} | {v} |")
emit("")

# ---- startup ------------------------------------------------------------------------------
# Every round's hyperfine JSON: the runs of all rounds are pooled per command.
startup = {}
for f in sorted(os.listdir(res)):
    if f.startswith("startup-") and f.endswith(".json"):
        for r in json.loads(read(f))["results"]:
            startup.setdefault(r["command"], []).extend(r["times"])
order = ["bare", "unshare", "aurora-jail default", "aurora-jail bwrap-equivalent", "bwrap",
         "bwrap via sh", "bwrap+seccomp via sh", "crun", "firejail"]
what = {
    "bare": "`/bin/true`, no sandbox",
    "unshare": "namespaces only (user, mount, pid, net, ipc, uts): the floor",
    "aurora-jail default": "built-in policy: 7 namespaces, cgroups (memory, pids, cpu time), seccomp, caps, rlimits",
    "aurora-jail bwrap-equivalent": "bwrap's mounts, no resource limits; still seccomp default deny, caps, no_new_privs",
    "bwrap": "the common baseline line; no seccomp",
    "bwrap via sh": "the same behind `sh -c 'exec ...'` (the shell's cost, for the next row)",
    "bwrap+seccomp via sh": "bwrap `--seccomp 9` fed aurora-jail's default-policy BPF",
    "crun": "OCI bundle, same mounts and namespaces, cgroups disabled, no seccomp",
    "firejail": "the common baseline line (its own seccomp), as an unprivileged throwaway user",
}
med = {n: statistics.median(t) * 1000 for n, t in startup.items()}
nruns = {n: len(t) for n, t in startup.items()}
if startup or any(n in skipped for n in order):
    emit(f"## 1. Startup of `/bin/true` ({runs} runs x {rounds} rounds, interleaved)")
    emit("")
    emit(f"`bench/interleave.py`: each pass of a round runs every tool once, in the order below "
         f"and reversed on every other pass, {runs} passes a round, after 5 warm-up runs each, "
         "so that all tools see the same machine (crun and firejail, which need their own "
         "namespace or user, are measured right after each round with hyperfine -N). The medians "
         "pool the runs of all rounds. q1-q3 is the interquartile range (the noise); min, the "
         "least disturbed run, is closest to the cost on an idle machine. aurora-jail runs from a "
         "copy written as install(1) and dpkg write files (`$W/bin/aurora-jail`), like the peers, "
         "which dpkg installed.")
    emit("")
    emit("| command | median ms | q1-q3 ms | min ms | x bare | x bwrap | isolation |")
    emit("|---|---:|---:|---:|---:|---:|---|")
    for n in order:
        if n in med:
            q = statistics.quantiles([t * 1000 for t in startup[n]], n=4)
            xb = f"{med[n] / med['bare']:.1f}" if "bare" in med else "-"
            xw = f"{med[n] / med['bwrap']:.2f}" if "bwrap" in med else "-"
            emit(f"| {n} | {med[n]:.2f} | {q[0]:.1f}-{q[2]:.1f} | {min(startup[n]) * 1000:.2f} | {xb} | {xw} | {what[n]} |")
        elif n in skipped:
            emit(f"| {n} | skipped: {hide(skipped[n])} | | | | | {what[n]} |")
    emit("")
    ratios = []
    def ratio(label, a, b, note=""):
        if a in med and b in med:
            ratios.append(f"- {label}: **{med[a] / med[b]:.2f}**{note}")
    ratio("aurora-jail (bwrap-equivalent policy) / bwrap", "aurora-jail bwrap-equivalent", "bwrap",
          " (goal <= 1.0; aurora-jail also loads a seccomp filter here, bwrap does not)")
    ratio("aurora-jail (bwrap-equivalent policy) / bwrap+seccomp via sh", "aurora-jail bwrap-equivalent",
          "bwrap+seccomp via sh", " (bwrap pays a shell exec here that aurora-jail does not)")
    if all(n in med for n in ("aurora-jail bwrap-equivalent", "bwrap+seccomp via sh", "bwrap via sh", "bwrap")):
        est = med["bwrap+seccomp via sh"] - (med["bwrap via sh"] - med["bwrap"])
    if all(n in med for n in ("aurora-jail bwrap-equivalent", "bwrap+seccomp via sh", "bwrap via sh", "bwrap")) \
            and med["bwrap via sh"] >= med["bwrap"] and est > 0:
        ratios.append(f"- aurora-jail (bwrap-equivalent policy) / bwrap+seccomp: **{med['aurora-jail bwrap-equivalent'] / est:.2f}** "
                      f"(bwrap+seccomp without the shell estimated as {med['bwrap+seccomp via sh']:.2f} - "
                      f"({med['bwrap via sh']:.2f} - {med['bwrap']:.2f}) = {est:.2f} ms)")
    ratio("aurora-jail (default policy) / bwrap", "aurora-jail default", "bwrap")
    ratio("aurora-jail (default policy) / crun", "aurora-jail default", "crun")
    ratio("aurora-jail (default policy) / firejail", "aurora-jail default", "firejail")
    ratio("aurora-jail (default) / aurora-jail (bwrap-equivalent): the price of the limits", "aurora-jail default", "aurora-jail bwrap-equivalent")
    if ratios:
        emit("Ratios of medians:")
        emit("")
        lines.extend(ratios)
        emit("")
    mins = {n: min(t) * 1000 for n, t in startup.items()}
    pairs = [("aurora-jail bwrap-equivalent", "bwrap"), ("aurora-jail bwrap-equivalent", "bwrap+seccomp via sh"),
             ("aurora-jail default", "bwrap"), ("aurora-jail default", "crun")]
    shown = [f"{a} / {b} **{mins[a] / mins[b]:.2f}**" for a, b in pairs if a in mins and b in mins]
    if shown:
        emit("Ratios of the fastest runs (what an idle machine would show, roughly): " + "; ".join(shown) + ".")
        emit("")

# ---- syscall cost -------------------------------------------------------------------------
sdir = path("syscall")
if os.path.isdir(sdir):
    envs = []
    i = 1
    while os.path.exists(os.path.join(sdir, f"{i}.name")) or os.path.exists(os.path.join(sdir, f"{i}.skipped")):
        name = read(f"syscall/{i}.name").strip()
        best = {}
        for p in sorted(f for f in os.listdir(sdir) if re.fullmatch(rf"{i}\.\d+", f)):
            for line in read(f"syscall/{p}").splitlines():
                m = re.match(r"(\S+) ([0-9.]+) ns/call$", line)
                if m:
                    best[m.group(1)] = min(best.get(m.group(1), float("inf")), float(m.group(2)))
        envs.append((name, best))
        i += 1
    callnames = ["getppid", "read0", "ioctl", "denied"]
    npass = len([f for f in os.listdir(sdir) if re.fullmatch(r"1\.\d+", f)])
    emit(f"## 2. Per-syscall cost ({int(calls):,} calls each; best of 200 rounds x {npass} passes)")
    emit("")
    emit(f"`bench/syscall_cost.c`, built {read('syscall-build').strip()}. ns per call, and the "
         "difference to bare:")
    emit("")
    emit("| environment | " + " | ".join(f"{c} ns" for c in callnames) + " |")
    emit("|---|" + "---:|" * len(callnames))
    bare = dict(envs).get("bare", {})
    for name, best in envs:
        cells = []
        for c in callnames:
            if c not in best:
                cells.append("-")
            elif name == "bare" or c not in bare:
                cells.append(f"{best[c]:.0f}")
            else:
                cells.append(f"{best[c]:.0f} ({best[c] - bare[c]:+.0f})")
        emit(f"| {name} | " + " | ".join(cells) + " |")
    for k, v in skipped.items():
        if k.startswith("syscall: "):
            emit(f"| {k[9:]} | skipped: {hide(v)} |" + " |" * (len(callnames) - 1))
    emit("")
    walks = {}
    for key, f in (("default", "bpf-default.txt"), ("min", "bpf-min.txt")):
        for line in read(f).splitlines():
            m = re.match(r"program (\d+) insns", line)
            if m:
                walks[(key, "len")] = m.group(1)
            m = re.match(r"(\S+) nr=(\d+) insns=(\d+) action=(\S+)", line)
            if m:
                walks[(key, m.group(1))] = (m.group(2), m.group(3), m.group(4))
    if walks:
        emit("BPF instructions each call walks (bench/bpf_walk.py on the program `aurora-jail "
             "policy compile --bpf` writes; the kernel runs it on every call):")
        emit("")
        emit(f"| call | nr | default policy ({walks.get(('default', 'len'), '?')} insns) | "
             f"min filter `{{\"default_deny\": false}}` ({walks.get(('min', 'len'), '?')} insns) |")
        emit("|---|---:|---:|---:|")
        for c in callnames:
            d, m = walks.get(("default", c)), walks.get(("min", c))
            if d and m:
                emit(f"| {c} | {d[0]} | {d[1]} ({d[2]}) | {m[1]} ({m[2]}) |")
        emit("")
        hist = {}
        for line in read("bpf-all.txt").splitlines():
            m = re.match(r"\S+ nr=\d+ insns=(\d+) action=ALLOW", line)
            if m:
                hist[int(m.group(1))] = hist.get(int(m.group(1)), 0) + 1
        if hist:
            emit("Over every x86_64 number 0-460 the default program allows (zero arguments): "
                 + ", ".join(f"{n} walk {k}" for k, n in sorted(hist.items())) + " instructions.")
            emit("")

# ---- daemon -------------------------------------------------------------------------------
daemon = read("daemon.txt")
if daemon or "daemon" in skipped:
    emit("## 3. Host daemon (`bench/daemon.sh`)")
    emit("")
    if daemon:
        emit("```")
        emit(daemon.rstrip())
        emit("```")
    else:
        emit(f"skipped: {hide(skipped['daemon'])}")
    emit("")

# ---- memory -------------------------------------------------------------------------------
maxrss = {}
for n, v in tsv("maxrss.tsv"):
    maxrss.setdefault(n, []).append(int(v))
if maxrss:
    emit("## 4. Peak memory")
    emit("")
    emit("Max RSS is GNU time's `%M` for `TOOL ... /bin/true` (the largest of the processes it "
         "waited for), median of 5. VmHWM is each process's own peak, polled from /proc every "
         "5 ms while `TOOL ... sleep 1` runs (depth 0 = the tool, 1 = its child: the sandbox's "
         "PID 1, 2 = the command).")
    emit("")
    emit("| tool | max RSS KiB | VmHWM KiB per process |")
    emit("|---|---:|---|")
    hwm = dict(tsv("hwm.tsv"))
    for n, vals in maxrss.items():
        procs = json.loads(hwm[n])["processes"] if n in hwm else []
        desc = ", ".join(f"{p['depth']}: {p['comm']} {p['hwm_kb']}" for p in procs)
        emit(f"| {n} | {statistics.median(vals):.0f} | {desc} |")
    emit("")

# ---- escapes ------------------------------------------------------------------------------
try:
    esc = open("bench/ESCAPES.md").read()
except FileNotFoundError:
    esc = ""
m = re.search(r"^\| attack \|(.*)\|$", esc, re.M)
t = re.search(r"^\| \*\*escaped / blocked / skipped\*\* \|(.*)\|$", esc, re.M)
d = re.search(r"Produced by `bench/escape_compare.sh` on (\S+)", esc)
if m and t:
    emit("## 5. Escape probe (`bench/escape_compare.sh`, full table in [ESCAPES.md](ESCAPES.md))")
    emit("")
    emit(f"From its run of {d.group(1) if d else '?'}"
         + (" (rerun by this script)" if "escapes" not in skipped and os.path.exists(os.path.join(work, "escapes.out")) else "")
         + ": attacks escaped / blocked / skipped, per tool.")
    emit("")
    emit("|" + m.group(1) + "|")
    emit("|" + "---|" * len(m.group(1).split("|")))
    emit("|" + t.group(1) + "|")
    emit("")

# ---- profile ------------------------------------------------------------------------------
def profile_and_notes():
    emit("## Where the time goes")
    emit("")
    begin, end = MARK["profile"]
    emit(begin)
    if profiled and read("perf-dso.txt"):
        prof = []
        add = prof.append
        wall = read("perf-stat.wall").split()
        stat = {}
        for line in read("perf-stat.csv").splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[0] and not line.startswith("#"):
                try:
                    stat[parts[2]] = float(parts[0])
                except ValueError:
                    pass
        add(f"From the profiled run of {dict(tsv('machine.tsv')).get('date', '?')}: 100 runs of "
            f"`aurora-jail run -- /bin/true` (default policy) under `perf record -g` "
            f"(event: {read('perf-event.txt').strip() or '?'}); the runner and the sandbox's PID 1 "
            "both show as aurora-jail.")
        add("")
        if len(wall) == 2 and "task-clock" in stat:
            w = (float(wall[1]) - float(wall[0])) * 1000 / 100
            cpu = stat["task-clock"] / 100
            add(f"`perf stat` of the same loop: {w:.1f} ms wall per run, {cpu:.1f} ms on a CPU "
                f"(all processes of the loop, {stat.get('context-switches', 0) / 100:.0f} context "
                f"switches, {stat.get('page-faults', 0) / 100:.0f} page faults per run): the rest, "
                f"{max(w - cpu, 0):.1f} ms, no process of the loop was on a CPU (waiting on each other, "
                "on the kernel's deferred work such as RCU, or for a CPU of this shared machine): "
                "a CPU profile cannot show that part.")
            add("")
        if read("phases.md").strip():
            add("Wall time phase by phase (`bench/phases.py`):")
            add("")
            add(hide(read("phases.md")).rstrip())
            add("")
        for title, f in (("Self time by process and binary (`--sort comm,dso`)", "perf-dso.txt"),
                         ("Inclusive time (`--children --sort sym`: a function with all it calls; "
                          "the first column is inclusive, the second self)", "perf-inclusive.txt"),
                         ("Top kernel symbols, self time", "perf-kernel.txt"),
                         ("Top user-space symbols, self time", "perf-user.txt")):
            add(f"{title}:")
            add("")
            add("```")
            add(hide(read(f)).rstrip())
            add("```")
            add("")
        lines.extend(prof)
    else:
        keep_old_block("profile", "(no profile yet: run `bash bench/compare.sh --profile`)")
    emit(end)
    emit("")
    emit("## Notes")
    emit("")
    begin, end = MARK["notes"]
    emit(begin)
    keep_old_block("notes", "(hand-written reading of the figures; kept across reruns)")
    emit(end)
    emit("")


# Without a file to keep them in (-o -), a run without --profile shows neither.
if out != "-" or profiled:
    profile_and_notes()

# ---- skipped and the command lines ----------------------------------------------------------
if skipped:
    emit("## Skipped")
    emit("")
    for k, v in skipped.items():
        emit(f"- {k}: skipped: {hide(v)}")
    emit("")
emit("## Command lines")
emit("")
emit("`$W` is the script's scratch directory (removed afterwards).")
emit("")
for k, v in tsv("commands.tsv"):
    emit(f"- {k}: `{hide(v)}`")
emit("")

text = "\n".join(lines)
if out != "-":
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)
print(text)
