#!/bin/sh
# Guest side of ctest vm.cgroup2 (PID 1 is tests/vm/init; cgroup2 is mounted with
# memory, cpu and pids enabled). Runs the limit tests and aurora-runc's freezer test as root at the hierarchy root, then
# as uid 1000 inside a subtree delegated to it, and prints one VM-PASS/VM-FAIL line each.
export AJ_BIN=/vmtest/bin/aurora-jail TMPDIR=/tmp
cd /tmp
fails=0
result() {
    if [ "$2" -eq 0 ]; then echo "VM-PASS $1"; else echo "VM-FAIL $1 (status $2)"; fails=$((fails + 1)); fi
}
n=0
as_user() {  # runs CMD as uid 1000, alone in a fresh leaf of the delegated subtree
    n=$((n + 1))
    leaf=/sys/fs/cgroup/deleg/session$n
    mkdir "$leaf" && chown 1000:1000 "$leaf" "$leaf/cgroup.procs" "$leaf/cgroup.subtree_control" "$leaf/cgroup.threads"
    sh -c 'echo $$ > "$0/cgroup.procs" && exec aj_vm_runas 1000 1000 "$@"' "$leaf" "$@"
}

echo "== aurora-jail check (root)"
aurora-jail check; result root.check_runs $(( $? > 1 ))
cgroup_limits_test --gtest_brief=1; result root.cgroup_limits $?
landlock_rules_test --gtest_brief=1; result root.landlock_rules $?
cgroup_run_test --gtest_brief=1; result root.cgroup_run $?
fallback_mode_test --gtest_brief=1; result root.fallback_mode $?
# aurora-runc's pause: cgroup.freeze on a pure v2 host (this CI host is hybrid).
oci_freezer_test --gtest_brief=1; result root.oci_freezer $?

# Delegation as systemd does it: the subtree and its procs/subtree_control/threads files
# belong to the user, memory/cpu/pids are enabled for it, and the user's processes live
# in leaves (sessionN) of it, never in the delegated cgroup itself.
mkdir /sys/fs/cgroup/deleg
chown 1000:1000 /sys/fs/cgroup/deleg /sys/fs/cgroup/deleg/cgroup.procs \
    /sys/fs/cgroup/deleg/cgroup.subtree_control /sys/fs/cgroup/deleg/cgroup.threads
for c in memory cpu pids; do echo "+$c" > /sys/fs/cgroup/deleg/cgroup.subtree_control; done
echo "== aurora-jail check (uid 1000, delegated /sys/fs/cgroup/deleg)"
as_user aurora-jail check; result user.check_runs $(( $? > 1 ))
as_user cgroup_limits_test --gtest_brief=1; result user.cgroup_limits $?
as_user landlock_rules_test --gtest_brief=1; result user.landlock_rules $?
# aurora-jail shares its session leaf with the test process, which may hold no sandbox
# cgroups (no internal processes): as deployments should, point it at an empty delegated
# parent instead.
mkdir /sys/fs/cgroup/deleg/jails
chown 1000:1000 /sys/fs/cgroup/deleg/jails /sys/fs/cgroup/deleg/jails/cgroup.procs \
    /sys/fs/cgroup/deleg/jails/cgroup.subtree_control /sys/fs/cgroup/deleg/jails/cgroup.threads
export AURORA_JAIL_CGROUP_PARENT=/sys/fs/cgroup/deleg/jails
as_user cgroup_run_test --gtest_brief=1; result user.cgroup_run $?
unset AURORA_JAIL_CGROUP_PARENT
as_user fallback_mode_test --gtest_brief=1; result user.fallback_mode $?
as_user oci_freezer_test --gtest_brief=1; result user.oci_freezer $?

# Only the supervisors' own leaves (aurora-jail-PID-supervisor, swept at the next start
# once their owner is dead) may remain; every sandbox cgroup must be gone.
left=$(find /sys/fs/cgroup -name 'aurora-jail-*' ! -name '*-supervisor' -type d)
[ -z "$left" ]; result no_sandbox_cgroup_left $?
[ -n "$left" ] && echo "left behind: $left"
echo "VM-SUMMARY failures=$fails"
[ "$fails" -eq 0 ]
