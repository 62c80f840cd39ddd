// config.json -> ContainerPlan (oci/config.hpp): what is mapped, what is refused by name,
// and that a rootfs's symlinks are recreated rather than followed on the host.
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "helper/mount_plan.hpp"
#include "helper/userns.hpp"
#include "oci/cgroup_resources.hpp"
#include "oci/config.hpp"
#include "oci/container_cgroup.hpp"
#include "oci/container_restrictions.hpp"
#include "oci/device_nodes.hpp"
#include "oci/process_rlimits.hpp"
#include "policy/error.hpp"
#include "tests/support/oci_default_mounts.hpp"
#include "tests/support/process.hpp"

namespace aj::oci {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json minimal() {
    return json{{"ociVersion", "1.0.2"},
                {"root", {{"path", "rootfs"}}},
                {"process", {{"args", {"/bin/sh"}}, {"cwd", "/"}, {"env", {"PATH=/bin", "A=b=c"}}}},
                {"linux",
                 {{"namespaces",
                   {{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "ipc"}}, {{"type", "uts"}},
                    {{"type", "user"}}, {{"type", "cgroup"}}, {{"type", "network"}}}}}}};
}

// The launch library's plan of `p` as aurora-runc asks for it from an ordinary caller: a
// tmpfs root holding the rootfs's entries, the config's mounts in the config's order.
helper::MountPlan container_mounts(const ContainerPlan& p,
                                   const std::vector<std::pair<std::string, std::string>>& sysctls = {},
                                   const std::vector<std::string>& masked = {},
                                   const std::vector<std::string>& readonly = {}) {
    helper::ContainerLayout layout;
    layout.leading_binds = p.rootfs_entries;
    layout.order = p.mount_order;
    return helper::build_mount_plan(p.policy, p.binds, std::nullopt, {}, p.filesystems, sysctls, masked, readonly, {}, {},
                                    layout);
}

class OciConfig : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(dir_.path() + "/rootfs/etc");
        fs::create_directories(dir_.path() + "/rootfs/proc");
        fs::create_directory_symlink("/lib/x86_64-linux-gnu", dir_.path() + "/rootfs/lib64");
    }
    ContainerPlan plan(const json& config) { return plan_container(config, dir_.path(), {}); }
    std::string refusal(const json& config) {
        try {
            plan(config);
        } catch (const Error& e) {
            return e.what();
        }
        return "(accepted)";
    }
    test::TempDir dir_;
};

TEST_F(OciConfig, MapsTheProcessAndTheRootfsEntries) {
    const ContainerPlan p = plan(minimal());
    EXPECT_EQ(p.argv, std::vector<std::string>{"/bin/sh"});
    EXPECT_EQ(p.cwd, "/");
    EXPECT_EQ(p.policy.env.set.at("A"), "b=c");
    EXPECT_TRUE(p.policy.env.pass.empty());
    EXPECT_EQ(p.policy.network, policy::NetworkMode::None);
    EXPECT_FALSE(p.policy.allow_fallback);
    EXPECT_FALSE(p.policy.limits.timeout_sec);
    EXPECT_TRUE(p.policy.allowed_paths.empty());
    // proc is the sandbox's own; etc is bound read-write (root.readonly unset); lib64 kept a link.
    ASSERT_EQ(p.binds.size(), 2u);
    EXPECT_EQ(p.binds[0].inside, "/etc");
    EXPECT_EQ(p.binds[0].mode, policy::PathMode::ReadWrite);
    EXPECT_EQ(p.binds[1].inside, "/lib64");
    EXPECT_TRUE(p.binds[1].recreate_symlink);
    EXPECT_TRUE(p.warnings.empty());
}

TEST_F(OciConfig, AnAbsoluteRootfsSymlinkIsRecreatedNotFollowedOnTheHost) {
    const ContainerPlan p = plan(minimal());
    const helper::MountPlan mounts = helper::build_mount_plan(p.policy, p.binds, std::nullopt);
    bool found = false;
    for (const auto& op : mounts.ops) {
        if (op.target != "/lib64") continue;
        found = true;
        EXPECT_EQ(op.kind, helper::MountKind::Symlink) << helper::describe(op);
        EXPECT_EQ(op.source, "/lib/x86_64-linux-gnu");
    }
    EXPECT_TRUE(found) << helper::describe(mounts);
}

// The runtime-spec's extensibility rule: a property it does not define is ignored with a
// warning; one it defines that aurora-runc does not carry out is refused, never dropped.
TEST_F(OciConfig, UnknownPropertiesAreIgnoredWithAWarningAndUnsupportedOnesRefused) {
    json c = minimal();
    c["unknown"] = "unknown";
    c["root"]["readOnly"] = true;
    c["process"]["user"]["nickname"] = "x";
    ContainerPlan p = plan(c);
    EXPECT_NE(std::find(p.warnings.begin(), p.warnings.end(), "unknown: not a runtime-spec property: ignored"),
              p.warnings.end());
    EXPECT_NE(std::find(p.warnings.begin(), p.warnings.end(), "root.readOnly: not a runtime-spec property: ignored"),
              p.warnings.end());
    EXPECT_NE(std::find(p.warnings.begin(), p.warnings.end(),
                        "process.user.nickname: not a runtime-spec property: ignored"),
              p.warnings.end());
    for (const auto& [where, key] : {std::pair{"", "windows"}, {"linux", "intelRdt"}, {"process", "scheduler"}}) {
        json u = minimal();
        (where[0] ? u[where] : u)[key] = json::object();
        EXPECT_NE(refusal(u).find(std::string(where[0] ? std::string(where) + "." : "") + key +
                                  ": not supported by aurora-runc yet"),
                  std::string::npos)
            << refusal(u);
    }
}

TEST_F(OciConfig, NetworkAndLimitsFollowTheConfig) {
    json c = minimal();
    c["linux"]["namespaces"].erase(6);  // no network namespace: the host's network
    c["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}}, {"pids", {{"limit", 32}}}};
    c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 100}, {"soft", 100}},
                               {{"type", "RLIMIT_NPROC"}, {"hard", 4096}, {"soft", 4096}}};
    const ContainerPlan p = plan(c);
    EXPECT_EQ(p.policy.network, policy::NetworkMode::Host);
    EXPECT_EQ(p.policy.limits.memory_mb, 64u);
    EXPECT_EQ(p.policy.limits.pids, 32u);  // RLIMIT_NPROC 4096 narrows nothing here
    EXPECT_EQ(p.policy.limits.open_files, 100u);
    EXPECT_FALSE(p.oom_score_adj);
    c["process"]["oomScoreAdj"] = 500;
    EXPECT_EQ(plan(c).oom_score_adj, 500);
    // The OCI default policy's limits are defaults: the engine's values replace them
    // (runtime-tools reads pids.max back from the sandbox's own cgroup)...
    c["linux"]["resources"]["memory"]["limit"] = 1LL << 40;
    c["linux"]["resources"]["pids"]["limit"] = 1000;
    EXPECT_EQ(plan(c).policy.limits.memory_mb, 1u << 20);
    EXPECT_EQ(plan(c).policy.limits.pids, 1000u);
    c["linux"]["resources"]["pids"]["limit"] = 1;  // PID 1 alone would fill it: refused, not EAGAIN later
    EXPECT_NE(refusal(c).find("linux.resources.pids.limit: 1: the sandbox's init (PID 1) takes one pid itself"),
              std::string::npos)
        << refusal(c);
    c["linux"]["resources"]["pids"]["limit"] = 1000;
    c["process"]["rlimits"][1]["hard"] = 500;  // ... and RLIMIT_NPROC still narrows them
    c["process"]["rlimits"][1]["soft"] = 500;
    EXPECT_EQ(plan(c).policy.limits.pids, 501u) << "500 of the container's and the sandbox's PID 1";
    // ... while a named policy's limits are ceilings a config never widens.
    std::ofstream(dir_.path() + "/capped.json")
        << R"({"max_memory_mb": 128, "max_pids": 64, "network": "host", "allow_fallback": false})";
    c["annotations"] = {{kPolicyAnnotation, "capped"}};
    const ContainerPlan named = plan_container(c, dir_.path(), {dir_.path()});
    EXPECT_EQ(named.policy.limits.memory_mb, 128u);
    EXPECT_EQ(named.policy.limits.pids, 64u);
}

// linux.seccomp is compiled at create (oci/seccomp_profile.hpp), not warned about and
// ignored; null is no profile; one that cannot be enforced fails the plan.
TEST_F(OciConfig, LinuxSeccompIsCompiledIntoASecondProgram) {
    json c = minimal();
    EXPECT_FALSE(plan(c).seccomp_program);
    c["linux"]["seccomp"] = nullptr;
    EXPECT_FALSE(plan(c).seccomp_program);
    const json profile{{"defaultAction", "SCMP_ACT_ALLOW"},
                       {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
    c["linux"]["seccomp"] = profile;
    const ContainerPlan p = plan(c);
    ASSERT_TRUE(p.seccomp_program);
    EXPECT_FALSE(p.seccomp_program->instructions.empty());
    EXPECT_EQ(p.seccomp_profile, profile);
    for (const auto& w : p.warnings) EXPECT_EQ(w.find("seccomp"), std::string::npos) << w;
    c["linux"]["seccomp"]["syscalls"][0]["action"] = "SCMP_ACT_NOTIFY";
    EXPECT_NE(refusal(c).find("config.json: linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported"),
              std::string::npos)
        << refusal(c);
}

TEST_F(OciConfig, CgroupsPathAndResourcesBecomeControlWrites) {
    json c = minimal();
    c["linux"]["resources"] = {{"cpu", {{"shares", 2048}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}}},
                               {"blockIO", {{"weight", 10}}}};
    ContainerPlan p = plan(c);
    EXPECT_TRUE(p.cgroup_writes.empty());  // no cgroupsPath: a warning each, nothing written
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("linux.resources.cpu: not applied without linux.cgroupsPath"), std::string::npos) << all;
    c["linux"]["cgroupsPath"] = "/ctr/one";
    p = plan(c);
    EXPECT_EQ(p.cgroups_path, "/ctr/one");
    const std::vector<ControlWrite> want = {
        {"cpu", "cpu.shares", "2048", "cpu.weight", "79"},
        {"cpu", "cpu.cfs_period_us", "100000", "cpu.max", "50000 100000"},
        {"cpu", "cpu.cfs_quota_us", "50000", "cpu.max", "50000 100000"},
        {"cpuset", "cpuset.cpus", "0", "cpuset.cpus", "0"},
    };
    EXPECT_EQ(p.cgroup_writes, want);
    all.clear();
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("linux.resources.blockIO: not applied"), std::string::npos) << all;
}

// linux.resources.devices: v1 devices.allow/deny writes in the listed order; with a
// cgroupsPath, followed by "rw" for the sandbox's own nodes and "m" for linux.devices.
TEST_F(OciConfig, DeviceRulesAreWrittenInOrderThenTheSandboxsOwnNodes) {
    json c = minimal();
    c["linux"]["cgroupsPath"] = "/ctr/dev";
    c["linux"]["devices"] = json::array({{{"path", "/dev/net/tun"}, {"type", "c"}, {"major", 10}, {"minor", 200}}});
    c["linux"]["resources"] = {{"devices",
                                {{{"allow", false}, {"access", "rwm"}},
                                 {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 229}, {"access", "rw"}},
                                 {{"allow", false}, {"type", "b"}, {"major", 8}, {"access", "r"}},
                                 {{"allow", true}, {"type", "c"}, {"major", -1}, {"minor", -1}, {"access", "m"}}}}};
    const ContainerPlan p = plan(c);
    std::vector<std::string> lines;
    for (const ControlWrite& w : p.cgroup_writes) {
        EXPECT_EQ(w.controller, "devices");
        EXPECT_EQ(w.v2_file, "") << "cgroup v2 has no file for device rules";
        lines.push_back(w.v1_file + " " + w.v1_value);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{
                         "devices.deny a *:* rwm", "devices.allow c 10:229 rw", "devices.deny b 8:* r",
                         "devices.allow c *:* m", "devices.allow c 1:3 rw", "devices.allow c 1:5 rw",
                         "devices.allow c 1:7 rw", "devices.allow c 1:8 rw", "devices.allow c 1:9 rw",
                         "devices.allow c 5:0 rw", "devices.allow c 5:2 rw", "devices.allow c 136:* rw",
                         "devices.allow c 10:200 m"}));
    // Without a cgroupsPath: nothing written, and a warning says so.
    c["linux"].erase("cgroupsPath");
    const ContainerPlan none = plan(c);
    EXPECT_TRUE(none.cgroup_writes.empty());
    EXPECT_NE(std::find(none.warnings.begin(), none.warnings.end(),
                        "linux.resources.devices: not applied without linux.cgroupsPath (the container's /dev holds "
                        "only the sandbox's own nodes and those of linux.devices)"),
              none.warnings.end());
}

TEST(OciCgroupResources, MalformedDeviceRulesAreRefusedByField) {
    auto refused = [](const json& rule) {
        std::vector<std::string> warnings;
        try {
            resource_writes(json{{"devices", json::array({rule})}}, warnings, UnknownResource::Refuse);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_NE(refused(json{{"access", "rwm"}}).find("devices[0].allow: must be true or false"), std::string::npos);
    EXPECT_NE(refused(json{{"allow", true}, {"type", "p"}}).find("devices[0].type: p: must be a, c or b"),
              std::string::npos);
    EXPECT_NE(refused(json{{"allow", true}, {"access", "rwx"}}).find("must be made of r, w and m"), std::string::npos);
    EXPECT_NE(refused(json{{"allow", true}, {"access", ""}}).find("must be made of r, w and m"), std::string::npos);
    EXPECT_NE(refused(json{{"allow", true}, {"type", "c"}, {"major", 1LL << 33}}).find("not a device number"),
              std::string::npos);
    EXPECT_NE(refused(json{{"allow", true}, {"path", "/dev/x"}}).find("devices[0].path: not a device rule's field"),
              std::string::npos);
    EXPECT_NE(refused(json{{"allow", true}, {"type", "c"}, {"minor", "1"}}).find("devices[0].minor"), std::string::npos);
}

TEST(OciCgroupResources, MemoryAndPidsInV1AndV2) {
    std::vector<std::string> warnings;
    const std::vector<ControlWrite> w = resource_writes(
        json{{"memory", {{"limit", 1 << 30}, {"reservation", 1 << 29}, {"swap", 3LL << 29}, {"kernel", 1}}},
             {"pids", {{"limit", -1}}}},
        warnings, UnknownResource::Refuse);
    const std::vector<ControlWrite> want = {
        {"memory", "memory.limit_in_bytes", "1073741824", "memory.max", "1073741824"},
        {"memory", "memory.soft_limit_in_bytes", "536870912", "memory.low", "536870912"},
        {"memory", "memory.memsw.limit_in_bytes", "1610612736", "memory.swap.max", "536870912", true},
        {"pids", "pids.max", "max", "pids.max", "max"},
    };
    EXPECT_EQ(w, want);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("memory.kernel"), std::string::npos);
    auto refused = [](const json& r) {
        std::vector<std::string> ignored;
        try {
            resource_writes(r, ignored, UnknownResource::Refuse);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_NE(refused(json{{"cpu", {{"cpus", "0;rm"}}}}).find("linux.resources.cpu.cpus"), std::string::npos);
    EXPECT_NE(refused(json{{"cpu", {{"shares", 1}}}}).find("linux.resources.cpu.shares"), std::string::npos);
    EXPECT_NE(refused(json{{"memory", {{"limit", 100}, {"swap", 50}}}}).find("memory.swap"), std::string::npos);
    EXPECT_NE(refused(json{{"pids", {{"limit", "9"}}}}).find("linux.resources.pids.limit"), std::string::npos);
    // A key the spec does not define: update's input refuses it, config.json ignores it.
    EXPECT_NE(refused(json{{"pid", {{"limit", 9}}}}).find("linux.resources.pid: not a runtime-spec resource"),
              std::string::npos);
    std::vector<std::string> warned;
    EXPECT_TRUE(resource_writes(json{{"pid", {{"limit", 9}}}}, warned, UnknownResource::Ignore).empty());
    EXPECT_EQ(warned, std::vector<std::string>{"linux.resources.pid: not a runtime-spec property: ignored"});
}

TEST(OciCgroupResources, CgroupsPathIsReadAsRuncReadsIt) {
    EXPECT_EQ(parse_cgroups_path("/a//b/./c", false).text(), "/a/b/c");
    EXPECT_EQ(parse_cgroups_path("a/b", false).text(), "a/b");
    EXPECT_FALSE(parse_cgroups_path("a/b", false).absolute);
    // --systemd-cgroup: slice:prefix:name, where systemd puts the unit.
    EXPECT_EQ(parse_cgroups_path("machine.slice:libpod:abc", true).text(), "/machine.slice/libpod-abc.scope");
    EXPECT_EQ(parse_cgroups_path("kubepods-besteffort-pod1.slice:cri-containerd:x", true).text(),
              "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-x.scope");
    EXPECT_EQ(parse_cgroups_path(":runc:x", true).text(), "/system.slice/runc-x.scope");
    EXPECT_EQ(parse_cgroups_path("-.slice::x", true).text(), "/x.scope");
    auto refused = [](const std::string& text, bool systemd) {
        try {
            parse_cgroups_path(text, systemd);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_NE(refused("/a/../../etc", false).find("\"..\" is not allowed"), std::string::npos);
    EXPECT_NE(refused("..", false).find("not allowed"), std::string::npos);
    EXPECT_NE(refused("/", false).find("names no cgroup"), std::string::npos);
    EXPECT_NE(refused("/a/b", true).find("slice:prefix:name"), std::string::npos);
    EXPECT_NE(refused("a--b.slice:p:n", true).find("not a systemd slice name"), std::string::npos);
    EXPECT_NE(refused("a.slice:p:x/../y", true).find("a unit name holds no /"), std::string::npos);

    helper::CgroupHierarchy v1;
    v1.version = helper::CgroupVersion::V1;
    v1.mount_point = "/sys/fs/cgroup/pids";
    v1.own_dir = "/sys/fs/cgroup/pids/user/me";
    helper::CgroupHierarchy v2 = v1;
    v2.version = helper::CgroupVersion::V2;
    v2.mount_point = "/sys/fs/cgroup";
    v2.own_dir = "/sys/fs/cgroup/user/me";
    EXPECT_EQ(cgroup_dir_in(v1, parse_cgroups_path("/ctr", false)), "/sys/fs/cgroup/pids/ctr");
    EXPECT_EQ(cgroup_dir_in(v1, parse_cgroups_path("ctr/x", false)), "/sys/fs/cgroup/pids/user/me/ctr/x");
    // v2: below our cgroup's parent, as runc (our own has members: no controllers below it).
    EXPECT_EQ(cgroup_dir_in(v2, parse_cgroups_path("ctr/x", false)), "/sys/fs/cgroup/user/ctr/x");
    v2.own_dir = "/sys/fs/cgroup";
    v2.own_is_root = true;
    EXPECT_EQ(cgroup_dir_in(v2, parse_cgroups_path("ctr", false)), "/sys/fs/cgroup/ctr");
}

TEST_F(OciConfig, WhatCannotBeEnforcedIsRefusedByName) {
    json c = minimal();
    c["linux"]["sysctl"] = {{"kernel.printk", "1"}};
    EXPECT_NE(refusal(c).find("linux.sysctl.kernel.printk: not a sysctl of the container's own namespaces"),
              std::string::npos);
    c = minimal();
    c["linux"]["namespaces"].erase(6);  // the host's network
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    EXPECT_NE(refusal(c).find("no network namespace of its own"), std::string::npos);
    c = minimal();
    c["linux"]["sysctl"] = {{"kernel.shmmni", "100"}};
    EXPECT_NE(refusal(c).find("linux.sysctl.kernel.shmmni: not supported yet"), std::string::npos);
    c = minimal();
    c["linux"]["personality"] = {{"domain", "LINUX32"}};
    EXPECT_NE(refusal(c).find("linux.personality"), std::string::npos);
    c = minimal();
    c["process"]["rlimits"] = {{{"type", "RLIMIT_CORES"}, {"hard", 0}, {"soft", 0}}};
    EXPECT_NE(refusal(c).find("process.rlimits RLIMIT_CORES: not a runtime-spec rlimit type"), std::string::npos);
    c = minimal();
    c["process"]["terminal"] = true;
    EXPECT_NE(refusal(c).find("process.terminal: a terminal needs a devpts file system mounted at /dev/pts"),
              std::string::npos);
    c = minimal();
    c["mounts"] = {{{"destination", "/data"}, {"type", "bind"}, {"source", "/usr"}, {"options", {"bind", "suid"}}}};
    EXPECT_NE(refusal(c).find("bind option suid"), std::string::npos);
    c["mounts"][0]["options"] = {"bind", "strictatime"};  // not a restriction: applied (atime tests below)
    EXPECT_EQ(refusal(c), "(accepted)");
    c["mounts"][0]["options"] = {"bind", "noexec"};
    EXPECT_TRUE(plan(c).binds.back().noexec);
    c = minimal();
    c["process"]["oomScoreAdj"] = 5000;
    EXPECT_NE(refusal(c).find("process.oomScoreAdj: must be an integer from -1000 to 1000"), std::string::npos);
    c = minimal();
    c["ociVersion"] = "2.0.0";
    EXPECT_NE(refusal(c).find("ociVersion"), std::string::npos);
    c = minimal();
    c["annotations"] = {{kPolicyAnnotation, "../etc/x"}};
    EXPECT_NE(refusal(c).find("not a stored policy name"), std::string::npos);
    c = minimal();
    c["mounts"] = {{{"destination", "/mnt"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"uid=tty"}}}};
    EXPECT_NE(refusal(c).find("mounts /mnt: option \"uid=tty\" needs a numeric id"), std::string::npos) << refusal(c);
}

// linux.namespaces[].path (oci/namespace_join.hpp): net, ipc and uts are opened and
// checked at create and shared with the sandbox (the monitor joins them before the clone).
TEST_F(OciConfig, NetIpcAndUtsNamespacesAreJoinedByPath) {
    json c = minimal();
    c["linux"]["namespaces"][2]["path"] = "/proc/self/ns/ipc";
    c["linux"]["namespaces"][3]["path"] = "/proc/self/ns/uts";
    c["linux"]["namespaces"][6]["path"] = "/proc/self/ns/net";
    c["mounts"] = {{{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}},
                   {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}}};
    c["hostname"] = "pod-member";
    c["linux"]["sysctl"] = {{"net.ipv4.ping_group_range", "0 0"}};  // podman's, with its networks
    const ContainerPlan p = plan(c);
    EXPECT_TRUE(p.sysctls.empty());
    EXPECT_EQ(p.shared_namespaces, CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET);
    ASSERT_EQ(p.joined_namespaces.size(), 3u);
    struct stat own {};
    ASSERT_EQ(::stat("/proc/self/ns/net", &own), 0);
    const json recorded = describe(p.joined_namespaces);
    EXPECT_EQ(recorded["network"]["path"], "/proc/self/ns/net");
    EXPECT_EQ(recorded["network"]["inode"], own.st_ino);
    // A joined network is the sandbox's network: no new namespace, no sysfs of its own.
    EXPECT_EQ(p.policy.network, policy::NetworkMode::Host);
    EXPECT_TRUE(p.filesystems.empty());
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("mounts /dev/mqueue (mqueue): not mounted in an ipc namespace the container shares"), std::string::npos)
        << all;
    EXPECT_NE(all.find("hostname pod-member: not set, the shared uts namespace keeps its own"), std::string::npos)
        << all;
    EXPECT_NE(all.find("ping_group_range 0 0: not written, the joined network namespace keeps its own"),
              std::string::npos)
        << all;
    // Any other net.* sysctl would change a namespace that is not the container's own.
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
    EXPECT_NE(refusal(c).find("no network namespace of its own"), std::string::npos) << refusal(c);
    // The launch library leaves the shared namespaces out of its clone.
    EXPECT_EQ(helper::namespace_flags(p.policy, p.shared_namespaces) & (CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), 0);
    EXPECT_THROW(helper::namespace_flags(p.policy, CLONE_NEWPID), Error);
}

TEST_F(OciConfig, WhatIsNotANamespaceOfTheNamedTypeIsNeverJoined) {
    json c = minimal();
    c["linux"]["namespaces"][6]["path"] = "/proc/self/ns/ipc";
    EXPECT_NE(refusal(c).find("linux.namespaces network path /proc/self/ns/ipc: a namespace of another type"),
              std::string::npos)
        << refusal(c);
    // Neither a file nor a fifo (never opened for reading: that would block) is a namespace.
    std::ofstream(dir_.path() + "/file") << "x";
    ASSERT_EQ(::mkfifo((dir_.path() + "/fifo").c_str(), 0600), 0);
    for (const char* name : {"/file", "/fifo"}) {
        c["linux"]["namespaces"][6]["path"] = dir_.path() + name;
        EXPECT_NE(refusal(c).find("not a namespace (not a file of nsfs)"), std::string::npos) << refusal(c);
    }
    c["linux"]["namespaces"][6]["path"] = "ns/net";
    EXPECT_NE(refusal(c).find("not an absolute path"), std::string::npos) << refusal(c);
    c["linux"]["namespaces"][6]["path"] = dir_.path() + "/missing";
    EXPECT_NE(refusal(c).find("ENOENT"), std::string::npos) << refusal(c);
    // pid, mount, user and cgroup namespaces are the sandbox's own: refused with the reason.
    for (const auto& [index, why] : std::vector<std::pair<int, std::string>>{
             {0, "PID 1 of a pid namespace of its own"},
             {1, "a mount namespace of its own"},
             {4, "its own user namespace's map"},
             {5, "rooted at its own cgroup"}}) {
        c = minimal();
        const std::string type = c["linux"]["namespaces"][index]["type"];
        c["linux"]["namespaces"][index]["path"] = "/proc/self/ns/" + std::string(type == "mount" ? "mnt" : type);
        EXPECT_NE(refusal(c).find("path /proc/self/ns/"), std::string::npos) << refusal(c);
        EXPECT_NE(refusal(c).find(": joining it is not supported: "), std::string::npos) << refusal(c);
        EXPECT_NE(refusal(c).find(why), std::string::npos) << refusal(c);
    }
    c = minimal();
    c["linux"]["namespaces"].push_back({{"type", "network"}, {"path", "/proc/self/ns/net"}});
    EXPECT_NE(refusal(c).find("linux.namespaces network: listed twice"), std::string::npos) << refusal(c);
}

// linux.devices as listed: type, numbers, mode and the container's owner, read without
// touching the host (a root monitor makes the nodes: oci/device_nodes.hpp).
TEST_F(OciConfig, DevicesAreReadAsListed) {
    json c = minimal();
    c["linux"]["devices"] = json::array(
        {{{"path", "/dev/test1"}, {"type", "c"}, {"major", 10}, {"minor", 666}, {"fileMode", 0660}, {"uid", 0}, {"gid", 0}},
         {{"path", "/dev/sub/test2"}, {"type", "b"}, {"major", 8}, {"minor", 666}, {"fileMode", 04640}, {"uid", 5}, {"gid", 6}},
         {{"path", "/dev/test3"}, {"type", "p"}},
         {{"path", "/dev/test4"}, {"type", "u"}, {"major", 1}, {"minor", 3}, {"fileMode", S_IFCHR | 0644}},
         // The sandbox's own node with its own numbers: it has it already.
         {{"path", "/dev/null"}, {"type", "c"}, {"major", 1}, {"minor", 3}}});
    const ContainerPlan p = plan(c);
    const std::vector<DeviceNode> expected{{"/dev/test1", 'c', 10, 666, 0660, 0, 0},
                                           {"/dev/sub/test2", 'b', 8, 666, 0640, 5, 6},
                                           {"/dev/test3", 'p', 0, 0, 0666, 0, 0},
                                           {"/dev/test4", 'c', 1, 3, 0644, 0, 0}};
    EXPECT_EQ(p.device_nodes, expected);
    EXPECT_TRUE(p.devices.empty());  // nothing of the host's yet: create decides
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("linux.devices /dev/sub/test2: fileMode's set-id and sticky bits dropped"), std::string::npos)
        << all;
}

// What a listed device may never be: outside /dev, or a replacement of the sandbox's own
// null, zero, ... with other numbers (a "/dev/null" that is the host's disk).
TEST_F(OciConfig, DevicesOutsideDevOrReplacingTheSandboxsOwnAreRefused) {
    auto refused = [&](json device) {
        json config = minimal();
        config["linux"]["devices"] = json::array({std::move(device)});
        return refusal(config);
    };
    const json node{{"path", "/dev/aj-test"}, {"type", "c"}, {"major", 1}, {"minor", 3}};
    EXPECT_EQ(refused(node), "(accepted)");
    json wrong = node;
    for (const char* outside : {"/etc/passwd", "/dev/../etc/passwd", "dev/null", "/dev/", "/dev", "/dev/./x",
                                "/dev/x/..", "/devx", "/dev//x"}) {
        wrong["path"] = outside;
        EXPECT_NE(refused(wrong).find("not a path below /dev"), std::string::npos) << outside << ": " << refused(wrong);
    }
    for (const auto& [path, numbers] : {std::pair{"/dev/null", "char 1:3"}, std::pair{"/dev/zero", "char 1:5"},
                                        std::pair{"/dev/tty", "char 5:0"}, std::pair{"/dev/urandom", "char 1:9"}}) {
        wrong = node;
        wrong["path"] = path;
        wrong["major"] = 8;
        wrong["minor"] = 0;
        EXPECT_NE(refused(wrong).find(std::string("the sandbox's own ") + path + " (" + numbers + ") cannot be replaced"),
                  std::string::npos)
            << refused(wrong);
        wrong["type"] = "b";
        wrong["major"] = 1;
        wrong["minor"] = 3;
        EXPECT_NE(refused(wrong).find("cannot be replaced"), std::string::npos) << refused(wrong);
    }
    for (const char* own : {"/dev/pts/9", "/dev/shm", "/dev/fd", "/dev/stdout", "/dev/ptmx", "/dev/mqueue/x"}) {
        wrong = node;
        wrong["path"] = own;
        EXPECT_NE(refused(wrong).find("is there"), std::string::npos) << own << ": " << refused(wrong);
    }
    wrong = node;
    wrong["type"] = "s";
    EXPECT_NE(refused(wrong).find("type s: only char (c, u), block (b) devices and fifos (p) are made"),
              std::string::npos);
    wrong = node;
    wrong["minor"] = -1;
    EXPECT_NE(refused(wrong).find("minor must be a number"), std::string::npos) << refused(wrong);
    wrong = node;
    wrong["fileMode"] = 0200000;
    EXPECT_NE(refused(wrong).find("fileMode must be permission bits"), std::string::npos) << refused(wrong);
    json twice = minimal();
    json other = node;
    other["minor"] = 5;
    twice["linux"]["devices"] = json::array({node, other});
    EXPECT_NE(refusal(twice).find("linux.devices /dev/aj-test: listed twice, differently"), std::string::npos);
    twice["linux"]["devices"] = json::array({node, node});
    EXPECT_EQ(plan(twice).device_nodes.size(), 1u);
}

// Anyone but host root: the host's node of the listed type and numbers, bound at the same
// path (a user namespace cannot mknod); anything else is refused by name.
TEST_F(OciConfig, WithoutHostRootDevicesAreTheHostsMatchingNodes) {
    // A char device every host has besides the sandbox's own null, zero, ...
    std::string dev;
    struct stat st {};
    for (const char* candidate : {"/dev/kmsg", "/dev/fuse", "/dev/net/tun"})
        if (::lstat(candidate, &st) == 0 && S_ISCHR(st.st_mode)) {
            dev = candidate;
            break;
        }
    if (dev.empty()) GTEST_SKIP() << "no /dev/kmsg, /dev/fuse or /dev/net/tun on this host";
    const DeviceNode node{dev, 'c', ::major(st.st_rdev), ::minor(st.st_rdev), (st.st_mode & 0777) ^ 0002, st.st_uid,
                          st.st_gid};
    std::vector<std::string> warnings;
    EXPECT_EQ(host_device_binds({node}, warnings), std::vector<std::string>{dev});
    std::string all;
    for (const auto& w : warnings) all += w + "\n";
    EXPECT_NE(all.find("linux.devices " + dev + ": bound with the host node's mode"), std::string::npos) << all;
    // The launch library binds it in /dev as a device (no nodev).
    const helper::MountPlan mounts = helper::build_mount_plan(oci_default_policy(), {}, std::nullopt, {}, {}, {}, {}, {}, {dev});
    const auto at = std::find_if(mounts.ops.begin(), mounts.ops.end(), [&](const helper::MountOp& op) {
        return op.kind == helper::MountKind::Bind && op.target == dev;
    });
    ASSERT_NE(at, mounts.ops.end()) << helper::describe(mounts);
    EXPECT_EQ(at->source, dev);
    EXPECT_EQ(at->access, helper::BindAccess::Device);

    auto refused = [&](const DeviceNode& n) {
        try {
            std::vector<std::string> w;
            host_device_binds({n}, w);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    DeviceNode wrong = node;
    wrong.minor += 1;
    EXPECT_NE(refused(wrong).find("is not the char device"), std::string::npos) << refused(wrong);
    wrong = node;
    wrong.type = 'b';
    EXPECT_NE(refused(wrong).find("is not the block device"), std::string::npos) << refused(wrong);
    wrong.type = 'p';
    EXPECT_NE(refused(wrong).find("only char (c, u) and block (b) devices are bound"), std::string::npos);
    wrong = node;
    wrong.path = "/dev/no-such-device";
    EXPECT_NE(refused(wrong).find("the host has no such node to bind"), std::string::npos) << refused(wrong);
}

// A node the caller made is attached at its path in /dev, from its tree, as a device.
TEST(OciMountPlan, MadeDevicesAreAttachedInDevButNeverOverTheSandboxsOwn) {
    const helper::MountPlan mounts = helper::build_mount_plan(oci_default_policy(), {}, std::nullopt, {}, {}, {}, {},
                                                              {}, {}, {{"/dev/net/tun", 7}});
    const auto at = std::find_if(mounts.ops.begin(), mounts.ops.end(), [&](const helper::MountOp& op) {
        return op.kind == helper::MountKind::Bind && op.target == "/dev/net/tun";
    });
    ASSERT_NE(at, mounts.ops.end()) << helper::describe(mounts);
    EXPECT_EQ(at->tree, 7);
    EXPECT_EQ(at->access, helper::BindAccess::Device);
    // Before /dev turns read-only.
    const auto ro = std::find_if(mounts.ops.begin(), mounts.ops.end(), [&](const helper::MountOp& op) {
        return op.kind == helper::MountKind::RemountReadOnly && op.target == "/dev";
    });
    EXPECT_LT(at, ro);
    for (const char* own : {"/dev/null", "/dev/zero", "/dev/tty"})
        EXPECT_THROW(helper::build_mount_plan(oci_default_policy(), {}, std::nullopt, {}, {}, {}, {}, {}, {}, {{own, 7}}),
                     Error);
    EXPECT_THROW(helper::build_mount_plan(oci_default_policy(), {}, std::nullopt, {}, {}, {}, {}, {}, {}, {{"/etc/x", 7}}),
                 Error);
}

// A container id seen from the host: through the lines of a uid_map or gid_map.
TEST(OciDevices, ContainerIdsAreMappedThroughEveryLineOfTheMap) {
    const std::string map = "         0     100000          1\n      1000     200000       2000\n";
    EXPECT_EQ(host_id_of(map, 0), 100000u);
    EXPECT_EQ(host_id_of(map, 1000), 200000u);
    EXPECT_EQ(host_id_of(map, 2999), 201999u);
    EXPECT_EQ(host_id_of(map, 3000), std::nullopt);
    EXPECT_EQ(host_id_of(map, 1), std::nullopt);
    EXPECT_EQ(host_id_of("", 0), std::nullopt);
}

// linux.namespaces: an ipc or uts namespace the config leaves out is the runtime's (the
// spec's rule, podman's --ipc=host/--uts=host); pid, mount, user and cgroup never are.
TEST_F(OciConfig, IpcAndUtsLeftOutAreTheRuntimesTheOthersAreAlwaysNew) {
    json c = minimal();
    EXPECT_EQ(plan(c).shared_namespaces, 0);
    c["linux"]["namespaces"] = json::array({{{"type", "pid"}}, {{"type", "mount"}}, {{"type", "network"}}});
    c["mounts"] = {{{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}}};
    c["hostname"] = "mine";
    const ContainerPlan p = plan(c);
    EXPECT_EQ(p.shared_namespaces, CLONE_NEWIPC | CLONE_NEWUTS);
    EXPECT_TRUE(p.joined_namespaces.empty());
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("linux.namespaces: no ipc namespace listed: the container shares the runtime's"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("linux.namespaces: no uts namespace listed: the container shares the runtime's"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("a new user namespace is made although the config does not ask for one"), std::string::npos);
    EXPECT_NE(all.find("a new cgroup namespace is made although the config does not ask for one"), std::string::npos);
    // Not the sandbox's ipc namespace: no mqueue of it; not its uts: no hostname.
    EXPECT_TRUE(p.filesystems.empty());
    EXPECT_NE(all.find("hostname mine: not set, the shared uts namespace keeps its own"), std::string::npos) << all;
    // Nothing listed at all: still a new user, mount, pid and cgroup namespace.
    c["linux"]["namespaces"] = json::array();
    c["mounts"] = json::array();
    const ContainerPlan none = plan(c);
    EXPECT_EQ(none.shared_namespaces, CLONE_NEWIPC | CLONE_NEWUTS);
    EXPECT_EQ(none.policy.network, policy::NetworkMode::Host);
    const int flags = helper::namespace_flags(none.policy, none.shared_namespaces);
    EXPECT_EQ(flags & (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWCGROUP),
              CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWCGROUP);
    EXPECT_EQ(flags & (CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), 0);
}

TEST_F(OciConfig, WhatIsStricterThanAskedIsAWarning) {
    json c = minimal();
    c["linux"]["namespaces"] = {{{"type", "mount"}}, {{"type", "network"}}};
    c["process"]["user"] = {{"uid", 0}, {"gid", 0}};
    c["mounts"] = {{{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}},
                   {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}}};
    ContainerPlan p = plan(c);
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_NE(all.find("a new pid namespace"), std::string::npos) << all;
    EXPECT_EQ(all.find("process.user"), std::string::npos) << all;  // uid 0 is what runs inside
    EXPECT_NE(all.find("mounts /sys: sysfs is mounted read-only"), std::string::npos) << all;
    EXPECT_NE(all.find("mounts /sys/fs/cgroup (cgroup): not mounted yet"), std::string::npos) << all;
    ASSERT_EQ(p.filesystems.size(), 1u);
    // Without a network namespace of its own a container gets no sysfs (the kernel refuses it).
    c["linux"]["namespaces"] = {{{"type", "mount"}}};
    p = plan(c);
    all.clear();
    for (const auto& w : p.warnings) all += w + "\n";
    EXPECT_TRUE(p.filesystems.empty());
    EXPECT_NE(all.find("not mounted without a network namespace of its own"), std::string::npos) << all;
}

// runtime-tools' default mounts: each a new file system with the config's source label
// and options, mounted in the config's order after the rootfs's binds (runtimetest's
// validatePosixMounts reads them back from mountinfo).
json default_mounts() { return test::runtime_tools_default_mounts(); }

TEST_F(OciConfig, FileSystemsAreMountedAsTheConfigListsThem) {
    fs::create_directories(dir_.path() + "/rootfs/sys");
    json c = minimal();
    c["mounts"] = default_mounts();
    const ContainerPlan p = plan(c);
    ASSERT_EQ(p.filesystems.size(), 6u);
    EXPECT_EQ(p.filesystems[3].source, "shm");
    EXPECT_TRUE(p.filesystems[3].noexec);
    EXPECT_TRUE(p.filesystems[5].read_only);
    // The file system's own options as listed: gid=5 is kept until create knows what the
    // container maps (drop_unmapped_id_options).
    EXPECT_EQ(p.filesystems[2].options,
              (std::vector<std::string>{"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
    // The rootfs's own /sys is under the sysfs: not bound.
    for (const auto& b : p.binds) EXPECT_NE(b.inside, "/sys");

    const helper::MountPlan mounts = container_mounts(p);
    std::vector<std::string> order;
    for (const auto& op : mounts.ops)
        if (op.kind == helper::MountKind::Filesystem) order.push_back(op.fs_type + " " + op.target + " " + op.source);
    EXPECT_EQ(order, (std::vector<std::string>{"proc /proc proc", "tmpfs /dev tmpfs", "devpts /dev/pts devpts",
                                               "tmpfs /dev/shm shm", "mqueue /dev/mqueue mqueue", "sysfs /sys sysfs"}))
        << helper::describe(mounts);
    std::size_t etc = 0, proc = 0, null = 0, ptmx = 0, dev_ro = 0;
    for (std::size_t i = 0; i < mounts.ops.size(); ++i) {
        const auto& op = mounts.ops[i];
        if (op.target == "/etc") etc = i;
        if (op.kind == helper::MountKind::Filesystem && op.target == "/proc") proc = i;
        if (op.target == "/dev/null") null = i;
        if (op.target == "/dev/ptmx" && op.kind == helper::MountKind::Symlink && op.source == "pts/ptmx") ptmx = i;
        if (op.target == "/dev" && op.kind == helper::MountKind::RemountReadOnly) dev_ro = i;
        // The skeleton's own /proc and /dev/shm are replaced, not stacked.
        EXPECT_NE(op.kind, helper::MountKind::Proc) << helper::describe(op);
        EXPECT_FALSE(op.kind == helper::MountKind::ScratchDir && op.target == "/dev/shm");
    }
    EXPECT_LT(etc, proc);  // the rootfs first
    EXPECT_LT(proc, null);
    EXPECT_LT(null, ptmx);
    EXPECT_LT(ptmx, dev_ro);
    // tmpfs sizes are capped at the policy's tmpfs budget.
    const auto budget = p.policy.limits.tmpfs_mb;
    const std::string size = "size=" + std::to_string(budget ? std::min<std::uint64_t>(*budget, 64) : 64) + "m";
    for (const auto& op : mounts.ops) {
        if (op.kind != helper::MountKind::Filesystem || op.fs_type != "tmpfs") continue;
        EXPECT_NE(std::find(op.fs_options.begin(), op.fs_options.end(), size), op.fs_options.end())
            << helper::describe(op);
    }
}

// The config's mounts in the config's order (helper::ContainerLayout): a tmpfs listed
// after a bind at the same path covers it, a bind listed after a tmpfs lands in it, after
// the rootfs's entries and the sandbox's own /proc, /dev and /tmp.
TEST_F(OciConfig, TheConfigsMountsKeepTheConfigsOrder) {
    fs::create_directories(dir_.path() + "/src");
    json c = minimal();
    const json bind_options = {"rbind", "ro"};
    c["mounts"] = json::array({
        {{"destination", "/mnt/b"}, {"type", "bind"}, {"source", dir_.path() + "/src"}, {"options", bind_options}},
        {{"destination", "/mnt/b"}, {"type", "tmpfs"}, {"source", "tmpfs"}},
        {{"destination", "/mnt/t"}, {"type", "tmpfs"}, {"source", "tmpfs"}},
        {{"destination", "/mnt/t/in"}, {"type", "bind"}, {"source", dir_.path() + "/src"}, {"options", bind_options}},
    });
    const ContainerPlan p = plan(c);
    ASSERT_EQ(p.mount_order.size(), 4u);
    helper::ContainerLayout layout;
    layout.leading_binds = p.rootfs_entries;
    layout.order = p.mount_order;
    const helper::MountPlan mounts =
        helper::build_mount_plan(p.policy, p.binds, std::nullopt, {}, p.filesystems, {}, {}, {}, {}, {}, layout);
    EXPECT_TRUE(mounts.made_in_order);
    std::vector<std::string> listed;
    std::size_t etc = 0, own_tmp = 0, first_listed = 0;
    for (std::size_t i = 0; i < mounts.ops.size(); ++i) {
        const auto& op = mounts.ops[i];
        if (op.target == "/etc") etc = i;
        if (op.kind == helper::MountKind::ScratchDir && op.target == "/tmp") own_tmp = i;
        if (!op.target.starts_with("/mnt/")) continue;
        if (!first_listed) first_listed = i;
        listed.push_back(std::string(op.kind == helper::MountKind::Bind ? "bind " : "tmpfs ") + op.target);
    }
    EXPECT_EQ(listed, (std::vector<std::string>{"bind /mnt/b", "tmpfs /mnt/b", "tmpfs /mnt/t", "bind /mnt/t/in"}))
        << helper::describe(mounts);
    EXPECT_LT(etc, own_tmp);
    EXPECT_LT(own_tmp, first_listed);
    EXPECT_EQ(mounts.ops.back().kind, helper::MountKind::RemountReadOnly);  // the tmpfs root
    EXPECT_EQ(mounts.ops.back().target, "/");

    // The rootfs itself as the root: a bind of the caller's tree at /, the entries gone,
    // and left as captured (written by the container) unless root.readonly.
    helper::ContainerLayout own_root = layout;
    own_root.root_tree = 0;  // any descriptor: the plan only carries it
    own_root.root_path = dir_.path() + "/rootfs";
    own_root.leading_binds = 0;
    std::vector<helper::ExtraBind> config_binds(p.binds.begin() + static_cast<std::ptrdiff_t>(p.rootfs_entries),
                                                p.binds.end());
    for (auto& m : own_root.order)
        if (!m.filesystem) m.index -= p.rootfs_entries;
    const helper::MountPlan rooted =
        helper::build_mount_plan(p.policy, config_binds, std::nullopt, {}, p.filesystems, {}, {}, {}, {}, {}, own_root);
    ASSERT_FALSE(rooted.ops.empty());
    EXPECT_EQ(rooted.ops.front().kind, helper::MountKind::Bind);
    EXPECT_EQ(rooted.ops.front().target, "/");
    EXPECT_EQ(rooted.ops.front().tree, 0);
    for (const auto& op : rooted.ops) EXPECT_NE(op.target, "/etc") << helper::describe(rooted);
    EXPECT_NE(rooted.ops.back().target, "/") << helper::describe(rooted);
    own_root.root_read_only = true;
    const helper::MountPlan read_only =
        helper::build_mount_plan(p.policy, config_binds, std::nullopt, {}, p.filesystems, {}, {}, {}, {}, {}, own_root);
    EXPECT_EQ(read_only.ops.back().target, "/");

    // A mount the order leaves out is refused, not mounted somewhere else.
    layout.order.pop_back();
    EXPECT_THROW(helper::build_mount_plan(p.policy, p.binds, std::nullopt, {}, p.filesystems, {}, {}, {}, {}, {}, layout),
                 Error);
}

TEST_F(OciConfig, NamespacedSysctlsAreWrittenBeforeTheReadOnlyPaths) {
    json c = minimal();
    c["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"net.ipv4.ping_group_range", "0 0"}, {"kernel.hostname", "h"}};
    c["linux"]["readonlyPaths"] = {"/proc/sys"};
    const ContainerPlan p = plan(c);
    EXPECT_EQ(p.policy.hostname, "h");
    // podman's ping_group_range "0 0": the process's gid (0, the config's default) is the
    // only one mapped inside, and in the range.
    ASSERT_EQ(p.sysctls.size(), 2u);
    EXPECT_EQ(p.sysctls.back(), (std::pair<std::string, std::string>{"net.ipv4.ping_group_range", "0 0"}));
    c["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
    EXPECT_EQ(plan(c).sysctls.size(), 1u);  // 1000 is not in "0 0": left at nobody
    c["linux"]["sysctl"]["net.ipv4.ping_group_range"] = "0 2147483647";
    EXPECT_EQ(plan(c).sysctls.back(), (std::pair<std::string, std::string>{"net.ipv4.ping_group_range", "1000 1000"}));
    const helper::MountPlan mounts =
        container_mounts(p, p.sysctls, {}, p.readonly_paths);
    std::size_t forward = 0, readonly = 0;
    for (std::size_t i = 0; i < mounts.ops.size(); ++i) {
        if (mounts.ops[i].kind == helper::MountKind::Sysctl && mounts.ops[i].target == "/proc/sys/net/ipv4/ip_forward")
            forward = i;
        if (mounts.ops[i].kind == helper::MountKind::ReadOnlyPath) readonly = i;
    }
    EXPECT_GT(forward, 0u) << helper::describe(mounts);
    EXPECT_LT(forward, readonly);
    EXPECT_THROW(helper::build_mount_plan(p.policy, {}, std::nullopt, {}, {}, {{"net..x/../../y", "1"}}), Error);
}

TEST_F(OciConfig, MaskedAndReadOnlyPathsComeLast) {
    json c = minimal();
    c["mounts"] = default_mounts();
    c["linux"]["maskedPaths"] = {"/proc/kcore", "/sys/firmware"};
    c["linux"]["readonlyPaths"] = {"/proc/sys"};
    const ContainerPlan p = plan(c);
    EXPECT_EQ(p.masked_paths, (std::vector<std::string>{"/proc/kcore", "/sys/firmware"}));
    const helper::MountPlan mounts =
        container_mounts(p, {}, p.masked_paths, p.readonly_paths);
    const auto& ops = mounts.ops;
    ASSERT_GE(ops.size(), 4u);
    // After every file system they could lie in, before the root turns read-only.
    EXPECT_EQ(ops[ops.size() - 4].kind, helper::MountKind::ReadOnlyPath);
    EXPECT_EQ(ops[ops.size() - 4].target, "/proc/sys");
    EXPECT_EQ(ops[ops.size() - 3].kind, helper::MountKind::Mask);
    EXPECT_EQ(ops[ops.size() - 2].target, "/sys/firmware");
    EXPECT_EQ(ops.back().kind, helper::MountKind::RemountReadOnly);
    c["linux"]["maskedPaths"] = {"proc/kcore"};
    EXPECT_NE(refusal(c).find("linux.maskedPaths: proc/kcore is not an absolute path"), std::string::npos);
}

TEST_F(OciConfig, ABindInsideAListedFileSystemIsMountedAfterIt) {
    json c = minimal();
    c["mounts"] = default_mounts();
    c["mounts"].push_back({{"destination", "/dev/termination-log"}, {"type", "bind"}, {"source", "/etc/hostname"},
                           {"options", {"rbind", "ro"}}});
    const ContainerPlan p = plan(c);
    const helper::MountPlan mounts = container_mounts(p);
    std::size_t dev = 0, log = 0, dev_ro = 0;
    for (std::size_t i = 0; i < mounts.ops.size(); ++i) {
        const auto& op = mounts.ops[i];
        if (op.kind == helper::MountKind::Filesystem && op.target == "/dev") dev = i;
        if (op.kind == helper::MountKind::Bind && op.target == "/dev/termination-log") log = i;
        if (op.kind == helper::MountKind::RemountReadOnly && op.target == "/dev") dev_ro = i;
    }
    EXPECT_LT(dev, log) << helper::describe(mounts);
    EXPECT_LT(log, dev_ro) << helper::describe(mounts);
}

// delete kills and removes what the record names: only cgroups below a hierarchy pass.
TEST(OciCgroupResources, ACgroupRecordNamingAnythingElseIsRefused) {
    const auto hierarchies = helper::discover_cgroup_hierarchies();
    if (hierarchies.empty()) GTEST_SKIP() << "no cgroup hierarchy is mounted here";
    const std::string inside = hierarchies.front().mount_point + "/ctr";
    EXPECT_EQ(container_cgroups_from_json(json{{"leaves", {inside}}, {"created", json::array()}}).leaves,
              std::vector<std::string>{inside});
    for (const std::string& bad : {std::string("/etc"), hierarchies.front().mount_point,
                                   hierarchies.front().mount_point + "/a/../../../etc"}) {
        EXPECT_THROW(container_cgroups_from_json(json{{"leaves", json::array()}, {"created", {bad}}}), Error) << bad;
    }
}

std::string warnings_of(const ContainerPlan& p) {
    std::string all;
    for (const auto& w : p.warnings) all += w + "\n";
    return all;
}

TEST_F(OciConfig, TheProcessRunsAsTheConfigsUserInside) {
    json c = minimal();
    ContainerPlan p = plan(c);
    // No process.user: uid and gid 0, as the spec says; noNewPrivileges unset: off.
    EXPECT_EQ(p.process.uid, 0u);
    EXPECT_EQ(p.process.gid, 0u);
    EXPECT_FALSE(p.process.no_new_privs);
    EXPECT_EQ(p.process.capabilities, helper::CapabilitySets{});
    c["process"]["user"] = {{"uid", 10}, {"gid", 20}, {"additionalGids", {5}}, {"umask", 2}};
    c["process"]["noNewPrivileges"] = true;
    p = plan(c);
    EXPECT_EQ(p.process.uid, 10u);
    EXPECT_EQ(p.process.gid, 20u);
    EXPECT_EQ(p.process.umask, 2u);
    EXPECT_TRUE(p.process.no_new_privs);
    EXPECT_EQ(p.additional_gids, std::vector<gid_t>{5});
    c["process"]["user"]["uid"] = -1;
    EXPECT_NE(refusal(c).find("process.user.uid: must be an id"), std::string::npos);
    c["process"]["user"]["uid"] = 4294967295LL;  // (uid_t)-1: "unchanged" to the kernel
    EXPECT_NE(refusal(c).find("process.user.uid: must be an id"), std::string::npos);
    c["process"]["user"]["uid"] = 10;
    c["process"]["noNewPrivileges"] = "yes";
    EXPECT_NE(refusal(c).find("process.noNewPrivileges"), std::string::npos);
}

TEST_F(OciConfig, IdMappingsAreReadAsWrittenAndMustHoldTheProcess) {
    json c = minimal();
    // runtime-tools' linux_uid_mappings: container 0.. onto host 1000..; the process is uid 0.
    c["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 2000}}};
    c["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 3000}}};
    ContainerPlan p = plan(c);
    EXPECT_EQ(p.process.uid, 0u);
    EXPECT_EQ(p.uid_mappings, (std::vector<helper::IdMapRange>{{0, 1000, 2000}}));
    EXPECT_EQ(p.gid_mappings, (std::vector<helper::IdMapRange>{{0, 1000, 3000}}));
    c["process"]["user"] = {{"uid", 5000}, {"gid", 0}};
    EXPECT_NE(refusal(c).find("linux.uidMappings: the process's uid 5000 is in none of the ranges"), std::string::npos);
    c["process"]["user"] = {{"uid", 1999}, {"gid", 0}};
    EXPECT_EQ(plan(c).process.uid, 1999u);
    c["linux"]["uidMappings"][0]["size"] = 0;
    EXPECT_NE(refusal(c).find("linux.uidMappings[].size"), std::string::npos);
    c["linux"]["uidMappings"][0] = {{"containerID", 0}, {"hostID", 4294967000LL}, {"size", 2000}};
    EXPECT_NE(refusal(c).find("reaches beyond id 4294967294"), std::string::npos) << refusal(c);
    c["linux"].erase("uidMappings");
    EXPECT_NE(refusal(c).find("must be given together"), std::string::npos) << refusal(c);
}

TEST_F(OciConfig, CapabilitiesAreKeptExactlyAsListed) {
    json c = minimal();
    c["process"]["capabilities"] = {{"bounding", {"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL"}},
                                    {"effective", {"CAP_CHOWN"}},
                                    {"permitted", {"CAP_CHOWN", "CAP_KILL"}},
                                    {"inheritable", {"CAP_KILL"}},
                                    {"ambient", {"CAP_KILL"}}};
    ContainerPlan p = plan(c);
    const auto bit = [](int cap) { return std::uint64_t{1} << cap; };
    EXPECT_EQ(p.process.capabilities.bounding, bit(0) | bit(21) | bit(5));
    EXPECT_EQ(p.process.capabilities.effective, bit(0));
    EXPECT_EQ(p.process.capabilities.permitted, bit(0) | bit(5));
    EXPECT_EQ(p.process.capabilities.inheritable, bit(5));
    EXPECT_EQ(p.process.capabilities.ambient, bit(5));
    EXPECT_TRUE(p.warnings.empty()) << warnings_of(p);
    // runtime-tools' process_capabilities_fail: a name that is no capability fails create.
    c["process"]["capabilities"]["bounding"].push_back("CAP_TEST");
    EXPECT_NE(refusal(c).find("process.capabilities.bounding: CAP_TEST is not a capability"), std::string::npos);
    for (const char* bad : {"cap_chown", "CAP_", "21", "CAP_21"}) {
        c["process"]["capabilities"]["bounding"] = {bad};
        EXPECT_NE(refusal(c).find("is not a capability"), std::string::npos) << bad;
    }
    c["process"]["capabilities"]["bounding"] = json::array();
    c["process"]["capabilities"]["effective"] = {"CAP_SYS_ADMIN"};  // not permitted: the kernel refuses it
    EXPECT_NE(refusal(c).find("process.capabilities.effective"), std::string::npos);
    c["process"]["capabilities"]["effective"] = json::array();
    c["process"]["capabilities"]["ambient"] = {"CAP_KILL", "CAP_CHOWN"};  // CHOWN is not inheritable
    p = plan(c);
    EXPECT_EQ(p.process.capabilities.ambient, bit(5));
    EXPECT_NE(warnings_of(p).find("ambient: CAP_CHOWN: left out"), std::string::npos) << warnings_of(p);
}

TEST_F(OciConfig, AccessTimeOptionsBecomeMountAttributes) {
    json c = minimal();
    // runtime-tools' mounts validation: atime and data options on binds and tmpfs alike.
    c["mounts"] = {{{"destination", "/data"}, {"source", "/usr"},
                    {"options", {"nosuid", "strictatime", "mode=755", "size=1k", "bind", "shared"}}},
                   {{"destination", "/t"}, {"type", "tmpfs"}, {"source", "tmpfs"},
                    {"options", {"nosuid", "noatime", "nodiratime", "mode=755", "size=1k", "slave"}}}};
    const ContainerPlan p = plan(c);
    ASSERT_EQ(p.filesystems.size(), 1u);
    EXPECT_TRUE(p.filesystems[0].atime.change);
    EXPECT_EQ(p.filesystems[0].atime.mode, std::uint64_t{MOUNT_ATTR_NOATIME});
    EXPECT_TRUE(p.filesystems[0].atime.nodiratime);
    const helper::ExtraBind& bind = p.binds.back();
    EXPECT_EQ(bind.inside, "/data");
    if (::geteuid() == 0) {
        EXPECT_TRUE(bind.atime.change);
        EXPECT_EQ(bind.atime.mode, std::uint64_t{MOUNT_ATTR_STRICTATIME});
    } else {
        EXPECT_EQ(bind.atime, helper::AtimeAttrs{});  // locked inside a user namespace: a warning
    }
    EXPECT_NE(warnings_of(p).find("mounts /data: option mode=755 ignored"), std::string::npos) << warnings_of(p);
    // An option undoes its opposite, in the config's order.
    c["mounts"][1]["options"] = {"strictatime", "nostrictatime"};
    EXPECT_FALSE(plan(c).filesystems[0].atime.change);
    const helper::MountPlan mounts = container_mounts(p);
    bool found = false;
    for (const auto& op : mounts.ops)
        if (op.kind == helper::MountKind::Filesystem && op.target == "/t") {
            found = true;
            EXPECT_EQ(op.atime, p.filesystems[0].atime);
        }
    EXPECT_TRUE(found) << helper::describe(mounts);
}

// exec's process.json is mapped as create maps the config's process, over the container's
// recorded policy: its rlimits only narrow that policy's limits.
TEST(OciExecPlan, ProcessIsMappedOverTheContainersPolicy) {
    policy::Policy container = oci_default_policy();
    container.limits.open_files = 1000;
    container.env.set["FROM_CONTAINER"] = "1";
    const json process{{"args", {"sh", "-c", "true"}},
                       {"cwd", "/work"},
                       {"env", {"PATH=/bin"}},
                       {"user", {{"uid", 7}, {"gid", 8}}},
                       {"noNewPrivileges", true},
                       {"capabilities", {{"bounding", {"CAP_KILL"}}, {"inheritable", {"CAP_KILL"}}}},
                       {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 5000}, {"soft", 5000}},
                                    {{"type", "RLIMIT_NPROC"}, {"hard", 10}, {"soft", 10}}}}};
    const ContainerPlan p = plan_exec_process(process, container);
    EXPECT_EQ(p.argv, (std::vector<std::string>{"sh", "-c", "true"}));
    EXPECT_EQ(p.cwd, "/work");
    EXPECT_EQ(p.policy.env.set, (std::map<std::string, std::string>{{"PATH", "/bin"}}));
    EXPECT_EQ(p.process.uid, 7u);
    EXPECT_EQ(p.process.gid, 8u);
    EXPECT_TRUE(p.process.no_new_privs);
    EXPECT_EQ(p.process.capabilities.bounding, 1ULL << 5);
    EXPECT_EQ(p.policy.limits.open_files, 1000u) << "process.json raised the container's limit";
    EXPECT_EQ(p.policy.limits.pids, 11u);
    // exec --tty: the terminal and its size are the process's (exec opens it in the container).
    const ContainerPlan tty = plan_exec_process(
        json{{"args", {"sh"}}, {"cwd", "/"}, {"terminal", true}, {"consoleSize", {{"height", 5}, {"width", 9}}}}, container);
    EXPECT_EQ(tty.terminal.value_or(ConsoleSize{}), (ConsoleSize{5, 9}));
    EXPECT_FALSE(p.terminal);
    EXPECT_THROW(plan_exec_process(json{{"args", json::array()}, {"cwd", "/"}}, container), Error);
}

TEST(OciExecPlan, ContainerRestrictionsRoundTrip) {
    ContainerRestrictions r{oci_default_policy(), 0, 5, (1ULL << 18) | (1ULL << 19), true};
    r.policy.limits.open_files = 333;
    r.seccomp_profile = json{{"defaultAction", "SCMP_ACT_ALLOW"}};
    const ContainerRestrictions back = container_restrictions_from_json(json::parse(to_json(r).dump()));
    EXPECT_EQ(back.seccomp_profile, r.seccomp_profile);
    EXPECT_EQ(back.policy, r.policy);
    EXPECT_EQ(back.uid, 0u);
    EXPECT_EQ(back.gid, 5u);
    EXPECT_EQ(back.bounding, r.bounding);
    EXPECT_TRUE(back.no_new_privs);
    EXPECT_THROW(container_restrictions_from_json(json{{"uid", 0}}), Error);
}

// process.rlimits: every runtime-spec type, soft and hard as written.
TEST(OciProcessRlimits, EveryRuntimeSpecTypeIsReadWithItsSoftAndHard) {
    const std::vector<std::pair<const char*, int>> types = {
        {"RLIMIT_AS", RLIMIT_AS},         {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},     {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},   {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK}};
    json rlimits = json::array();
    for (std::size_t i = 0; i < types.size(); ++i)
        rlimits.push_back({{"type", types[i].first}, {"soft", 10 + i}, {"hard", 100 + i}});
    // The largest value (RLIM_INFINITY) is a value like any other.
    rlimits[0]["hard"] = json::parse("18446744073709551615");
    const std::vector<helper::RlimitRequest> parsed = parse_process_rlimits(json::parse(rlimits.dump()));
    ASSERT_EQ(parsed.size(), types.size());
    for (std::size_t i = 0; i < types.size(); ++i) {
        EXPECT_EQ(parsed[i].name, types[i].first);
        EXPECT_EQ(parsed[i].resource, types[i].second) << types[i].first;
        EXPECT_EQ(parsed[i].soft, 10 + i) << types[i].first;
        EXPECT_EQ(parsed[i].hard, i == 0 ? RLIM_INFINITY : 100 + i) << types[i].first;
    }
    EXPECT_EQ(parse_process_rlimits(rlimits_to_json(parsed)), parsed);
}

TEST(OciProcessRlimits, RefusalsNameTheField) {
    const auto refusal = [](const json& rlimits) {
        try {
            parse_process_rlimits(rlimits);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    const json nofile{{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 20}};
    EXPECT_EQ(refusal(json::array({nofile})), "(accepted)");
    json soft_above = nofile;
    soft_above["soft"] = 21;
    EXPECT_NE(refusal(json::array({soft_above})).find("config.json: process.rlimits RLIMIT_NOFILE: soft 21/20: soft above hard"),
              std::string::npos);
    EXPECT_NE(refusal(json::array({nofile, nofile})).find("process.rlimits RLIMIT_NOFILE: listed twice"), std::string::npos);
    json unknown = nofile;
    unknown["type"] = "RLIMIT_NOFILES";
    EXPECT_NE(refusal(json::array({unknown})).find("process.rlimits RLIMIT_NOFILES: not a runtime-spec rlimit type"),
              std::string::npos);
    for (const json& bad : {json(-1), json(1.5), json("10"), json::parse("18446744073709551616")}) {
        json entry = nofile;
        entry["hard"] = bad;
        EXPECT_NE(refusal(json::array({entry})).find("process.rlimits RLIMIT_NOFILE hard: must be an integer"),
                  std::string::npos)
            << bad;
    }
    json no_soft = nofile;
    no_soft.erase("soft");
    EXPECT_NE(refusal(json::array({no_soft})).find("process.rlimits RLIMIT_NOFILE soft: missing"), std::string::npos);
    json extra = nofile;
    extra["max"] = 1;
    EXPECT_NE(refusal(json::array({extra})).find("process.rlimits[].max"), std::string::npos);
    EXPECT_NE(refusal(json::array({json{{"soft", 1}, {"hard", 1}}})).find("process.rlimits[].type"), std::string::npos);
    EXPECT_NE(refusal(json::object()).find("process.rlimits: must be an array"), std::string::npos);
}

// The policy's limits are a ceiling: a config asks what it likes below them, and gets
// them where it asks more, with a warning naming the type, what was asked and what applies.
TEST_F(OciConfig, RlimitsApplyAsGivenUnderThePolicysLimits) {
    std::ofstream(dir_.path() + "/cpu.json")
        << R"({"max_cpu_sec": 10, "max_open_files": 500, "network": "none", "allow_fallback": false})";
    json c = minimal();
    c["annotations"] = {{kPolicyAnnotation, "cpu"}};
    c["process"]["rlimits"] = {{{"type", "RLIMIT_AS"}, {"soft", 1 << 30}, {"hard", 2LL << 30}},
                               {{"type", "RLIMIT_NOFILE"}, {"soft", 100}, {"hard", 200}},
                               {{"type", "RLIMIT_STACK"}, {"soft", 4 << 20}, {"hard", 8 << 20}},
                               {{"type", "RLIMIT_CPU"}, {"soft", 5}, {"hard", 7}}};
    const auto request = [](int resource, const char* name, rlim_t soft, rlim_t hard) {
        return helper::RlimitRequest{resource, name, soft, hard};
    };
    ContainerPlan p = plan_container(c, dir_.path(), {dir_.path()});
    EXPECT_EQ(p.process.rlimits, (std::vector<helper::RlimitRequest>{
                                     request(RLIMIT_AS, "RLIMIT_AS", 1 << 30, 2ULL << 30),
                                     request(RLIMIT_NOFILE, "RLIMIT_NOFILE", 100, 200),
                                     request(RLIMIT_STACK, "RLIMIT_STACK", 4 << 20, 8 << 20),
                                     request(RLIMIT_CPU, "RLIMIT_CPU", 5, 7)}));
    EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
    EXPECT_EQ(p.policy.limits.open_files, 200u);  // the hard value narrows the policy's too

    // Above the policy: its value, never raised (RLIMIT_CPU's soft stays the policy's,
    // its hard one second later), and a warning for each.
    c["process"]["rlimits"] = {{{"type", "RLIMIT_CPU"}, {"soft", 20}, {"hard", 30}},
                               {{"type", "RLIMIT_CORE"}, {"soft", 3LL << 30}, {"hard", 4LL << 30}},
                               {{"type", "RLIMIT_NOFILE"}, {"soft", 300}, {"hard", 4000}},
                               {{"type", "RLIMIT_MSGQUEUE"}, {"soft", 1 << 20}, {"hard", 1 << 20}},
                               {{"type", "RLIMIT_SIGPENDING"}, {"soft", 100}, {"hard", 100000}}};
    p = plan_container(c, dir_.path(), {dir_.path()});
    EXPECT_EQ(p.process.rlimits, (std::vector<helper::RlimitRequest>{
                                     request(RLIMIT_CPU, "RLIMIT_CPU", 10, 11),
                                     request(RLIMIT_CORE, "RLIMIT_CORE", 0, 0),
                                     request(RLIMIT_NOFILE, "RLIMIT_NOFILE", 300, 500),
                                     request(RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 256 * 1024, 256 * 1024),
                                     request(RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", 100, 1024)}));
    const std::string only_lower = "; a config may only lower the sandbox's limits)";
    EXPECT_EQ(p.warnings,
              (std::vector<std::string>{
                  "process.rlimits RLIMIT_CPU 20/30: 10/11 applies (the policy's cpu_sec 10" + only_lower,
                  "process.rlimits RLIMIT_CORE 3221225472/4294967296: 0/0 applies (no core dumps from a sandbox" +
                      only_lower,
                  "process.rlimits RLIMIT_NOFILE 300/4000: 300/500 applies (the policy's open_files 500" + only_lower,
                  "process.rlimits RLIMIT_MSGQUEUE 1048576/1048576: 262144/262144 applies (the sandbox's quota of its "
                  "host uid's RLIMIT_MSGQUEUE" + only_lower,
                  "process.rlimits RLIMIT_SIGPENDING 100/100000: 100/1024 applies (the sandbox's quota of its host "
                  "uid's RLIMIT_SIGPENDING" + only_lower}));
    EXPECT_EQ(p.policy.limits.open_files, 500u);

    // RLIMIT_DATA: the policy sets it only where no memory cgroup holds memory_mb, which
    // launch decides: create passes the request on and says what may apply instead.
    c = minimal();
    c["process"]["rlimits"] = {{{"type", "RLIMIT_DATA"}, {"soft", 5LL << 30}, {"hard", 6LL << 30}}};
    p = plan(c);
    EXPECT_EQ(p.process.rlimits,
              (std::vector<helper::RlimitRequest>{request(RLIMIT_DATA, "RLIMIT_DATA", 5ULL << 30, 6ULL << 30)}));
    EXPECT_EQ(p.warnings, (std::vector<std::string>{
                              "process.rlimits RLIMIT_DATA 5368709120/6442450944: 536870912/536870912 applies where no "
                              "memory cgroup holds the policy's memory_mb 512 (its RLIMIT_DATA backstop; a config may "
                              "only lower it)"}));
    c["process"]["rlimits"][0]["hard"] = 100 << 20;
    c["process"]["rlimits"][0]["soft"] = 50 << 20;
    EXPECT_TRUE(plan(c).warnings.empty());
}

// RLIMIT_NOFILE/RLIMIT_NPROC narrow the policy's fields within what a policy may hold: the
// recorded policy is parsed again by every exec (0 or 2^21 open files would be refused
// there), while the request itself still applies as written.
TEST_F(OciConfig, RlimitsNarrowThePolicyWithinItsBounds) {
    json c = minimal();
    c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 0}, {"hard", 0}},
                               {{"type", "RLIMIT_NPROC"}, {"soft", 0}, {"hard", 0}}};
    ContainerPlan p = plan(c);
    EXPECT_EQ(p.policy.limits.open_files, 1u);
    EXPECT_EQ(p.policy.limits.pids, 2u) << "PID 1 and the container's one process";
    EXPECT_EQ(p.process.rlimits[0], (helper::RlimitRequest{RLIMIT_NOFILE, "RLIMIT_NOFILE", 0, 0}));
    EXPECT_EQ(container_restrictions_from_json(to_json(ContainerRestrictions{p.policy})).policy, p.policy);
    // Without a limit of the policy's own, the largest a policy may hold.
    p.policy = oci_default_policy();
    p.policy.limits.open_files.reset();
    p.policy.limits.pids.reset();
    c["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 1 << 21}, {"hard", 1 << 21}},
                               {{"type", "RLIMIT_NPROC"}, {"soft", 1 << 23}, {"hard", 1 << 23}}};
    p = plan_exec_process(c["process"], p.policy);
    EXPECT_EQ(p.policy.limits.open_files, 1u << 20);
    EXPECT_EQ(p.policy.limits.pids, 4194304u);
    EXPECT_EQ(container_restrictions_from_json(to_json(ContainerRestrictions{p.policy})).policy, p.policy);
}

// exec's process.json: its own rlimits under the container's recorded policy, or the
// config's (recorded) when it lists none.
TEST(OciExecPlan, ExecsRlimitsAreCappedByTheContainersPolicy) {
    policy::Policy container = oci_default_policy();
    container.limits.open_files = 1000;
    const json process{{"args", {"true"}},
                       {"cwd", "/"},
                       {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"soft", 900}, {"hard", 5000}},
                                    {{"type", "RLIMIT_STACK"}, {"soft", 1 << 20}, {"hard", 2 << 20}}}}};
    const ContainerPlan p = plan_exec_process(process, container);
    EXPECT_EQ(p.process.rlimits, (std::vector<helper::RlimitRequest>{{RLIMIT_NOFILE, "RLIMIT_NOFILE", 900, 1000},
                                                                      {RLIMIT_STACK, "RLIMIT_STACK", 1 << 20, 2 << 20}}));
    ASSERT_EQ(p.warnings.size(), 1u);
    EXPECT_NE(p.warnings[0].find("process.rlimits RLIMIT_NOFILE 900/5000: 900/1000 applies"), std::string::npos);

    ContainerRestrictions r{container, 0, 0, 0, true};
    r.rlimits = p.process.rlimits;
    EXPECT_EQ(container_restrictions_from_json(json::parse(to_json(r).dump())).rlimits, r.rlimits);
    json old_record = to_json(r);
    old_record.erase("rlimits");
    EXPECT_TRUE(container_restrictions_from_json(old_record).rlimits.empty());
}

// process.terminal (oci/console.hpp): the size is kept, and the terminal must be one of
// the container's own devpts, with nothing of the host's bound over its /dev/pts.
TEST_F(OciConfig, ATerminalIsOneOfTheContainersOwnDevpts) {
    json c = minimal();
    c["mounts"] = test::runtime_tools_default_mounts();
    EXPECT_FALSE(plan(c).terminal);
    c["process"]["consoleSize"] = {{"height", 33}, {"width", 111}};
    EXPECT_FALSE(plan(c).terminal) << "a size without a terminal is ignored, as by runc";
    c["process"]["terminal"] = true;
    const ConsoleSize unset{9, 9};
    EXPECT_EQ(plan(c).terminal.value_or(unset), (ConsoleSize{33, 111}));
    c["process"].erase("consoleSize");
    EXPECT_EQ(plan(c).terminal.value_or(unset), (ConsoleSize{0, 0}));

    json bad = c;
    bad["process"]["consoleSize"] = {{"height", 70000}, {"width", 80}};
    EXPECT_NE(refusal(bad).find("process.consoleSize.height: must be an integer from 0 to 65535"), std::string::npos);
    bad = c;
    bad["process"]["terminal"] = "yes";
    EXPECT_NE(refusal(bad).find("process.terminal: must be true or false"), std::string::npos);
    // The host's terminals bound over the container's devpts, or one of them as a device.
    bad = c;
    bad["mounts"].push_back({{"destination", "/dev/pts"}, {"type", "bind"}, {"source", "/dev/pts"}, {"options", {"rbind"}}});
    EXPECT_NE(refusal(bad).find("process.terminal: a terminal needs /dev/pts to be the sandbox's own devpts"),
              std::string::npos)
        << refusal(bad);
    bad = c;
    bad["mounts"].push_back({{"destination", "/dev/pts/0"}, {"type", "bind"}, {"source", "/dev/null"}, {"options", {"bind"}}});
    EXPECT_NE(refusal(bad).find("the sandbox's own devpts"), std::string::npos) << refusal(bad);
    bad = c;
    bad["mounts"].erase(2);  // the devpts
    EXPECT_NE(refusal(bad).find("needs a devpts file system mounted at /dev/pts"), std::string::npos) << refusal(bad);
}

}  // namespace
}  // namespace aj::oci
