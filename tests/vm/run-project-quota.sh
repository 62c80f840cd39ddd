#!/bin/sh
# Guest side of ctest vm.project_quota (PID 1 is tests/vm/init). An ext4 image made on the
# host with the quota and project features (project-quota-test.sh) is loop-mounted with
# prjquota, and aurora-jail's disk budget is tried on it: a root caller's plugin run and
# empty --workdir get a project quota (EDQUOT at the budget, no overshoot), an ordinary
# user's run is held by accounting, and the sandbox cannot move its files out of the
# project. One VM-PASS/VM-FAIL line per check; "VM-MEASURE" lines carry the overshoots.
export TMPDIR=/tmp
cd /tmp
fails=0
result() {
    if [ "$2" -eq 0 ]; then echo "VM-PASS $1"; else echo "VM-FAIL $1"; fails=$((fails + 1)); fi
}
check() {  # NAME COMMAND...: passes when COMMAND succeeds
    name=$1; shift
    if "$@"; then result "$name" 0; else result "$name" 1; fi
}
has() { grep -q -- "$2" "$1"; }
# The report's record of one limit ({...} of enforced.limits.NAME, no nested objects).
limit() { sed -n "s/.*\"$2\":{\([^}]*\)}.*/\1/p" "$1"; }
limit_has() { limit "$1" "$2" | grep -q -- "$3"; }
project_of() { limit "$1" disk_mb | sed -n 's/.*"project_quota":"applied: project \([0-9]*\) .*/\1/p'; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
show() { echo "--- $1"; cat "$1"; }
owned_dir() {  # UID DIR...: empty directories of UID (busybox has no install -d)
    owner=$1; shift
    mkdir "$@" && chown "$owner:$owner" "$@"
}

for m in crc16 crc32c_generic mbcache jbd2 ext4 quota_tree quota_v2 loop overlay; do
    insmod "/vmtest/bin/$m.ko" || echo "insmod $m failed"
done
Q=/mnt/q
mkdir -p $Q
if ! mount -t ext4 -o loop,prjquota /vmtest/bin/quota.img $Q; then
    echo "VM-FAIL mount (the ext4 image with project quotas)"
    dmesg | tail -20
    exit 1
fi
# Inside sandboxes through the policy's /usr.
cp /vmtest/bin/aj_vm_quota /vmtest/bin/aurora-jail /usr/bin/
export AJ=/usr/bin/aurora-jail
echo "== $(grep " $Q " /proc/mounts)"

# 4 MiB and 40 files; everything else the built-in defaults.
cat > /tmp/quota.json <<'EOF'
{"allowed_paths": ["/usr", "/bin", "/sbin", "/lib", "/lib64"], "max_disk_mb": 4, "max_files": 40,
 "timeout_sec": 120}
EOF
sed 's/"timeout_sec"/"default_deny": false, "timeout_sec"/' /tmp/quota.json > /tmp/quota-nodeny.json
chmod 644 /tmp/quota.json /tmp/quota-nodeny.json
MiB4=4194304
dd_big='dd if=/dev/zero of=big bs=1M count=16 2>&1; echo "dd-status=$?"'

# --- 1. A root caller's plugin run: the overlay /work is the project.
mkdir -p /tmp/pkg && chmod 755 /tmp/pkg
echo '{"id": "qt.pkg", "name": "Q", "version": "0.1.0", "entrypoint": ["/bin/sh", "-c", "true"]}' > /tmp/pkg/manifest.json
chmod 644 /tmp/pkg/manifest.json
mkdir -m 700 $Q/state
$AJ --state-dir $Q/state stage /tmp/pkg >/tmp/stage.out 2>&1 || show /tmp/stage.out
plugin_run() {  # REPORT SCRIPT [run options]
    report=$1 script=$2; shift 2
    $AJ --state-dir $Q/state run --plugin qt.pkg --policy /tmp/quota.json --report "$report" "$@" -- sh -c "$script"
}
echo "== root: plugin run writing 16 MiB past a 4 MiB budget"
plugin_run /tmp/p1.json "cd /work && $dd_big; stat -c 'size=%s' big" --rm >/tmp/p1.out 2>&1
show /tmp/p1.out; show /tmp/p1.json
check root.plugin.backend_is_project_quota limit_has /tmp/p1.json disk_mb '"backend":"project quota+accounting"'
check root.plugin.dd_edquot has /tmp/p1.out 'Disk quota exceeded'
check root.plugin.dd_failed has /tmp/p1.out 'dd-status=1'
check root.plugin.disk_hit limit_has /tmp/p1.json disk_mb '"hit":true'
check root.plugin.not_killed_by_accounting test "$(sed -n 's/.*"exit_code":\([0-9]*\).*/\1/p' /tmp/p1.json)" = 0
p1=$(project_of /tmp/p1.json)
echo "project: $p1"
check root.plugin.project_released sh -c "aj_vm_quota usage $Q ${p1:-0} | tee /dev/stderr | grep -q 'bytes=0 inodes=0 block_limit_kib=0 inode_limit=0'"
written=$(sed -n 's/^size=\([0-9]*\)$/\1/p' /tmp/p1.out)
echo "VM-MEASURE project_quota overshoot: wrote ${written:-?} bytes under a $MiB4-byte budget ($(( ${written:-0} - MiB4 )) past it)"
check root.plugin.no_overshoot test "${written:-99999999}" -le $MiB4

echo "== root: plugin run creating 100 files under max_files 40 (run directory kept)"
plugin_run /tmp/p2.json 'cd /work; i=0; while [ $i -lt 100 ]; do i=$((i+1)); touch f$i 2>/tmp/e || { cat /tmp/e; echo "touch-failed-at=$i"; break; }; done' >/tmp/p2.out 2>&1
show /tmp/p2.out
check root.plugin.files_edquot has /tmp/p2.out 'Disk quota exceeded'
# overlayfs's own directory in the work directory (work/work) is in the project too.
check root.plugin.files_stopped grep -Eq 'touch-failed-at=(39|40)$' /tmp/p2.out
check root.plugin.files_hit limit_has /tmp/p2.json files '"hit":true'
p2=$(project_of /tmp/p2.json)
rundir=$(sed -n 's/.*"run_dir":"\([^"]*\)".*/\1/p' /tmp/p2.json)
echo "project $p2, run directory $rundir: $(aj_vm_quota projid "$rundir/work") / f1: $(aj_vm_quota projid "$rundir/work/f1")"
check root.plugin.kept_tree_left_project sh -c "aj_vm_quota projid '$rundir/work' | grep -q 'projid=0 inherit=0' && aj_vm_quota projid '$rundir/work/f1' | grep -q 'projid=0 '"
check root.plugin.kept_tree_usage_zero sh -c "aj_vm_quota usage $Q ${p2:-0} | grep -q 'bytes=0 inodes=0 block_limit_kib=0'"

echo "== root: plugin run, a file unlinked while open still counts"
# Held open a second after the write, so that a poll (every 50 ms) sees the usage: a
# limit reached and released within one poll is not reported as hit (docs/policy.md).
plugin_run /tmp/p3.json 'cd /work && exec 3>gone && rm gone && dd if=/dev/zero bs=1M count=16 >&3 2>/tmp/e; echo "dd-status=$?"; cat /tmp/e; sleep 1' --rm >/tmp/p3.out 2>&1
show /tmp/p3.out
check root.plugin.unlinked_edquot has /tmp/p3.out 'Disk quota exceeded'
check root.plugin.unlinked_hit limit_has /tmp/p3.json disk_mb '"hit":true'

# --- 2. A root caller's empty --workdir (owned by uid 2000: bound idmapped).
echo "== root: empty --workdir, 16 MiB past 4 MiB"
owned_dir 2000 $Q/wd
$AJ run --policy /tmp/quota.json --workdir $Q/wd --report /tmp/w1.json -- sh -c "$dd_big; aj_vm_quota setprojid . 0; aj_vm_quota noinherit ." >/tmp/w1.out 2>&1
show /tmp/w1.out; show /tmp/w1.json
check root.workdir.backend_is_project_quota limit_has /tmp/w1.json disk_mb '"backend":"project quota+accounting"'
check root.workdir.dd_edquot has /tmp/w1.out 'Disk quota exceeded'
check root.workdir.disk_hit limit_has /tmp/w1.json disk_mb '"hit":true'
check root.workdir.no_overshoot test "$(size_of $Q/wd/big)" -le $MiB4
# The sandbox may not take its tree out of the project.
check root.workdir.setprojid_refused sh -c "grep -A0 'FS_IOC_FSSETXATTR' /tmp/w1.out | grep -q refused"
check root.workdir.noinherit_refused sh -c "grep 'FS_IOC_SETFLAGS' /tmp/w1.out | grep -q refused"
w1=$(project_of /tmp/w1.json)
echo "after: $Q/wd $(aj_vm_quota projid $Q/wd), big $(aj_vm_quota projid $Q/wd/big), project $w1: $(aj_vm_quota usage $Q ${w1:-0})"
check root.workdir.tree_left_project sh -c "aj_vm_quota projid $Q/wd | grep -q 'projid=0 inherit=0' && aj_vm_quota projid $Q/wd/big | grep -q 'projid=0 '"
check root.workdir.usage_zero sh -c "aj_vm_quota usage $Q ${w1:-0} | grep -q 'bytes=0 inodes=0 block_limit_kib=0 inode_limit=0'"

echo "== root: a --workdir that is not empty is held by accounting"
$AJ run --policy /tmp/quota.json --workdir $Q/wd --report /tmp/w2.json -- true >/tmp/w2.out 2>&1
check root.nonempty_workdir.accounting limit_has /tmp/w2.json disk_mb '"backend":"accounting"'
check root.nonempty_workdir.says_why limit_has /tmp/w2.json disk_mb 'not applied: no tree made for the run'

echo "== root: the kernel itself refuses a project change inside the user namespace (no seccomp rule)"
owned_dir 2000 $Q/wd3
$AJ run --policy /tmp/quota-nodeny.json --workdir $Q/wd3 -- sh -c 'mkdir d; aj_vm_quota setprojid d 0; aj_vm_quota noinherit d' >/tmp/w3.out 2>&1
show /tmp/w3.out
check root.userns.kernel_refuses_setprojid sh -c "grep 'FS_IOC_FSSETXATTR' /tmp/w3.out | grep -q 'refused: EINVAL'"
check root.userns.kernel_refuses_noinherit sh -c "grep 'FS_IOC_SETFLAGS' /tmp/w3.out | grep -q 'refused: EINVAL'"

echo "== root: two concurrent runs get distinct projects"
owned_dir 2000 $Q/c1 $Q/c2
$AJ run --policy /tmp/quota.json --workdir $Q/c1 --report /tmp/c1.json -- sh -c 'sleep 3; aj_vm_quota projid .' >/tmp/c1.out 2>&1 &
c1=$!
$AJ run --policy /tmp/quota.json --workdir $Q/c2 --report /tmp/c2.json -- sh -c 'sleep 3; aj_vm_quota projid .' >/tmp/c2.out 2>&1 &
c2=$!
wait $c1 $c2
cat /tmp/c1.out /tmp/c2.out
i1=$(project_of /tmp/c1.json) i2=$(project_of /tmp/c2.json)
echo "projects: $i1 $i2"
check root.concurrent.both_applied test -n "$i1" -a -n "$i2"
check root.concurrent.distinct test "$i1" != "$i2"
check root.concurrent.seen_inside sh -c "grep -q 'projid=$i1 inherit=1' /tmp/c1.out && grep -q 'projid=$i2 inherit=1' /tmp/c2.out"

echo "== root: the runner killed (SIGKILL) mid-run"
# One id in the pool: the next run must take the killed run's.
mkdir -p /etc/aurora-jail
printf 'first = 1879048192\ncount = 1\n' > /etc/aurora-jail/ids.conf
owned_dir 2000 $Q/k
$AJ run --policy /tmp/quota.json --workdir $Q/k -- sh -c 'dd if=/dev/zero of=k bs=1M count=2 2>/dev/null; sleep 60' >/tmp/k.out 2>&1 &
kpid=$!
n=0
while [ $n -lt 100 ] && [ "$(size_of $Q/k/k)" -lt 2097152 ]; do sleep 0.1; n=$((n + 1)); done
kid=$(aj_vm_quota projid $Q/k | sed -n 's/projid=\([0-9]*\).*/\1/p')
kill -9 $kpid
wait $kpid 2>/dev/null
sleep 1
echo "killed run's project $kid: tree $(aj_vm_quota projid $Q/k), usage $(aj_vm_quota usage $Q ${kid:-0})"
check root.killed.sandbox_gone sh -c "! pgrep -f 'sleep 60' >/dev/null"
# What the killed runner leaves: the tree in the project, and its record beside the lease.
check root.killed.tree_recorded test -f /run/aurora-jail/ids/$kid.trees
# The lease (a flock) went with the runner: the next run may take the same id, and gets
# its whole budget over what the killed run left charged to it.
owned_dir 2000 $Q/k2
$AJ run --policy /tmp/quota.json --workdir $Q/k2 --report /tmp/k2.json -- sh -c 'dd if=/dev/zero of=f bs=1M count=3 2>&1; echo "dd-status=$?"' >/tmp/k2.out 2>&1
show /tmp/k2.out
k2=$(project_of /tmp/k2.json)
echo "next run's project: $k2 (killed run's: $kid)"
check root.killed.same_id test "$k2" = 1879048192 -a "$kid" = 1879048192
check root.killed.next_run_gets_budget has /tmp/k2.out 'dd-status=0'
check root.killed.next_run_project_quota limit_has /tmp/k2.json disk_mb '"backend":"project quota+accounting"'
echo "after the next run: killed run's tree $(aj_vm_quota projid $Q/k), project $kid: $(aj_vm_quota usage $Q $kid)"
# The next holder of the id took the killed run's tree out of the project.
check root.killed.tree_taken_back sh -c "aj_vm_quota projid $Q/k | grep -q 'projid=0 inherit=0' && aj_vm_quota projid $Q/k/k | grep -q 'projid=0 '"
check root.killed.usage_zero sh -c "aj_vm_quota usage $Q $kid | grep -q 'bytes=0 inodes=0 block_limit_kib=0'"
check root.killed.record_gone test ! -e /run/aurora-jail/ids/$kid.trees
rm /etc/aurora-jail/ids.conf

# --- 3. The rlimit-only fallback (no user namespaces): the sandbox owns its files in the
# initial namespace, where the kernel lets an owner change them; seccomp refuses.
echo "== root, fallback mode: the default policy's seccomp filter refuses project changes"
old_max=$(cat /proc/sys/user/max_user_namespaces)
echo 0 > /proc/sys/user/max_user_namespaces
mkdir -m 1777 $Q/f1 $Q/f2
$AJ run --policy /tmp/quota.json --workdir $Q/f1 --report /tmp/f1.json -- sh -c "mkdir d; $dd_big; aj_vm_quota setprojid d 0; aj_vm_quota noinherit d" >/tmp/f1.out 2>&1
show /tmp/f1.out; show /tmp/f1.json
$AJ run --policy /tmp/quota-nodeny.json --workdir $Q/f2 -- sh -c 'mkdir d; aj_vm_quota setprojid d 0; aj_vm_quota noinherit d' >/tmp/f2.out 2>&1
show /tmp/f2.out
echo "$old_max" > /proc/sys/user/max_user_namespaces
check fallback.is_fallback has /tmp/f1.json '"mode":"rlimit-only"'
check fallback.backend_is_project_quota limit_has /tmp/f1.json disk_mb '"backend":"project quota+accounting"'
check fallback.dd_edquot has /tmp/f1.out 'Disk quota exceeded'
check fallback.seccomp_refuses_setprojid sh -c "grep 'FS_IOC_FSSETXATTR' /tmp/f1.out | grep -q 'refused: EPERM'"
check fallback.seccomp_refuses_noinherit sh -c "grep 'FS_IOC_SETFLAGS' /tmp/f1.out | grep -q 'refused: EPERM'"
# Why the rule is needed: without it (default_deny off) the owner may.
echo "without the default set: $(grep -c '^ok' /tmp/f2.out) of 2 changes went through"

# --- 4. An ordinary user: no project (CAP_SYS_ADMIN in the initial namespace is needed
# to set one); accounting holds the budget, with its overshoot.
echo "== uid 1000: accounting"
owned_dir 1000 $Q/u1
aj_vm_runas 1000 1000 $AJ run --policy /tmp/quota.json --workdir $Q/u1 --report /tmp/u1.json -- sh -c "$dd_big" >/tmp/u1.out 2>&1
echo "exit $?"
show /tmp/u1.out; show /tmp/u1.json
check user.backend_is_accounting limit_has /tmp/u1.json disk_mb '"backend":"accounting"'
check user.report_says_why limit_has /tmp/u1.json disk_mb 'not applied: only a root caller'
check user.disk_hit limit_has /tmp/u1.json disk_mb '"hit":true'
check user.killed has /tmp/u1.out 'passed its disk budget'
echo "VM-MEASURE accounting overshoot: wrote $(size_of $Q/u1/big) bytes under a $MiB4-byte budget ($(( $(size_of $Q/u1/big) - MiB4 )) past it)"
# Setting a project's limits needs CAP_SYS_ADMIN (an owner may still change its files'
# project id in the initial namespace: a sandbox's files are kept from that by the user
# namespace or by seccomp, above).
check user.cannot_set_limits sh -c "aj_vm_runas 1000 1000 aj_vm_quota setlimit $Q/u1 7 1024 | tee /dev/stderr | grep -q 'refused: EPERM'"

# --- 5. The overshoot, as bench/disk_overshoot.sh measures it on a host without project
# quotas: 1 MiB blocks from /dev/zero through the page cache, one writer (32 MiB) and four
# in parallel (8 MiB each), under an 8 MiB budget; what each run left (st_blocks).
echo "== overshoot: project quota (root) and accounting (uid 1000), 8 MiB budget"
rm -rf $Q/wd $Q/wd3 $Q/c1 $Q/c2 $Q/k $Q/k2 $Q/f1 $Q/f2 $Q/u1
sed 's/"max_disk_mb": 4/"max_disk_mb": 8, "max_file_size_mb": null/' /tmp/quota.json > /tmp/overshoot.json
chmod 644 /tmp/overshoot.json
one='dd if=/dev/zero of=f bs=1M count=32 2>/dev/null'
four='for i in 1 2 3 4; do dd if=/dev/zero of=f$i bs=1M count=8 2>/dev/null & done; wait'
MiB8=8388608
worst_quota=0
for who in root user; do
    for writers in 1 4; do
        script=$one; [ $writers = 4 ] && script=$four
        owner=2000; [ $who = user ] && owner=1000
        owned_dir $owner $Q/m
        empty=$(du -sk $Q/m | cut -f1)
        rm -f /tmp/m-$who.json
        if [ $who = root ]; then
            $AJ run --policy /tmp/overshoot.json --workdir $Q/m --report /tmp/m-$who.json -- sh -c "$script" >/dev/null 2>&1
        else
            aj_vm_runas 1000 1000 $AJ run --policy /tmp/overshoot.json --workdir $Q/m --report /tmp/m-$who.json -- sh -c "$script" >/dev/null 2>&1
        fi
        left=$(( ($(du -sk $Q/m | cut -f1) - empty) * 1024 ))
        backend=$(limit /tmp/m-$who.json disk_mb | sed -n 's/.*"backend":"\([^"]*\)".*/\1/p')
        [ $who = root ] && [ $left -gt $MiB8 ] && worst_quota=$left
        rm -rf $Q/m
        echo "VM-MEASURE overshoot $who ($backend), $writers writer(s), budget $MiB8 bytes: left $left bytes"
    done
done
check root.quota_overshoot_zero test $worst_quota -eq 0

echo "VM-SUMMARY failures=$fails"
[ "$fails" -eq 0 ]
