#!/usr/bin/env python3
"""How far a system call walks a seccomp program: for bench/compare.sh.

    bpf_walk.py FILTER.bpf NAME=NR[:ARG0,ARG1,...] ...

FILTER.bpf is a raw classic-BPF program (struct sock_filter[], as written by
`aurora-jail policy compile --bpf`). For each call it runs the program the way the kernel
would on x86_64 (struct seccomp_data: nr, arch, ip, args[6]) and prints
"NAME nr=NR insns=EXECUTED action=ACTION" plus, first, the program's length. The count
of executed instructions is the part of a call's cost that the filter adds.
Only what seccomp programs use is implemented; anything else is an error, not a guess.
"""
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
ACTIONS = {0x80000000: "KILL_PROCESS", 0x00000000: "KILL_THREAD", 0x00030000: "TRAP",
           0x00050000: "ERRNO", 0x7FC00000: "USER_NOTIF", 0x7FF00000: "TRACE",
           0x7FFC0000: "LOG", 0x7FFF0000: "ALLOW"}


def seccomp_data(nr, args):
    args = (list(args) + [0] * 6)[:6]
    return struct.pack("<iIQ6Q", nr, AUDIT_ARCH_X86_64, 0, *args)


def run(prog, data):
    a = x = 0
    mem = [0] * 16
    pc = executed = 0
    mask = 0xFFFFFFFF
    while True:
        if pc >= len(prog):
            raise SystemExit(f"bpf_walk: fell off the program at {pc}")
        code, jt, jf, k = prog[pc]
        executed += 1
        cls = code & 0x07
        if cls == 0x00:  # LD
            mode, size = code & 0xE0, code & 0x18
            if mode == 0x20 and size == 0x00:
                a = struct.unpack_from("<I", data, k)[0]
            elif mode == 0x00:
                a = k
            elif mode == 0x60:
                a = mem[k]
            elif mode == 0x80:
                a = len(data)
            else:
                raise SystemExit(f"bpf_walk: unsupported load {code:#x} at {pc}")
        elif cls == 0x01:  # LDX
            x = mem[k] if code & 0xE0 == 0x60 else k if code & 0xE0 == 0x00 else len(data)
        elif cls == 0x02:
            mem[k] = a
        elif cls == 0x03:
            mem[k] = x
        elif cls == 0x04:  # ALU
            op, src = code & 0xF0, (x if code & 0x08 else k)
            ops = {0x00: lambda: a + src, 0x10: lambda: a - src, 0x20: lambda: a * src,
                   0x40: lambda: a | src, 0x50: lambda: a & src, 0x60: lambda: a << src,
                   0x70: lambda: a >> src, 0x80: lambda: -a, 0xA0: lambda: a ^ src}
            if op not in ops:
                raise SystemExit(f"bpf_walk: unsupported ALU op {code:#x} at {pc}")
            a = ops[op]() & mask
        elif cls == 0x05:  # JMP
            op, src = code & 0xF0, (x if code & 0x08 else k)
            if op == 0x00:
                pc += 1 + k
                continue
            cond = {0x10: a == src, 0x20: a > src, 0x30: a >= src, 0x40: (a & src) != 0}
            if op not in cond:
                raise SystemExit(f"bpf_walk: unsupported jump {code:#x} at {pc}")
            pc += 1 + (jt if cond[op] else jf)
            continue
        elif cls == 0x06:  # RET
            ret = a if code & 0x18 == 0x10 else k
            action = ACTIONS.get(ret & 0xFFFF0000, f"{ret:#x}")
            if action == "ERRNO":
                action += f"({ret & 0xFFFF})"
            return executed, action
        elif cls == 0x07:  # MISC
            if code & 0xF8 == 0x00:
                x = a
            else:
                a = x
        pc += 1


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    raw = open(sys.argv[1], "rb").read()
    if not raw or len(raw) % 8:
        raise SystemExit(f"bpf_walk: {sys.argv[1]}: {len(raw)} bytes is not a BPF program")
    prog = [struct.unpack_from("<HBBI", raw, i) for i in range(0, len(raw), 8)]
    print(f"program {len(prog)} insns")
    for spec in sys.argv[2:]:
        name, _, rest = spec.partition("=")
        nr, _, args = rest.partition(":")
        argv = [int(v, 0) for v in args.split(",")] if args else []
        executed, action = run(prog, seccomp_data(int(nr, 0), argv))
        print(f"{name} nr={int(nr, 0)} insns={executed} action={action}")


if __name__ == "__main__":
    main()
