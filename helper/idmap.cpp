#include "helper/idmap.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "helper/child_guard.hpp"
#include "helper/mounts.hpp"

namespace aj::helper {

namespace {

std::string map_line(unsigned inside, unsigned outside) {
    return std::to_string(inside) + " " + std::to_string(outside) + " 1\n";
}

void warn_unmapped(const std::string& source, const std::string& why, const Identity& id, uid_t owner) {
    std::fprintf(stderr,
                 "aurora-jail: warning: %s cannot be idmapped (%s): the sandbox writes there as host uid %u, "
                 "with only the access uid %u has; the directory belongs to uid %u\n",
                 source.c_str(), why.c_str(), id.outside_uid, id.outside_uid, owner);
}

}  // namespace

sys::UniqueFd make_idmap_userns(const Identity& creator, const std::string& uid_map, const std::string& gid_map) {
    sys::Pipe hold = sys::make_pipe("creating the idmap namespace's pipe");
    pid_t child = 0;
    {
        // Owned by the sandbox's host uid, like the sandbox's own namespace: a mount holds
        // this namespace for as long as the sandbox lives, charged to the sandbox.
        CreatorIdentity as_sandbox(creator);
        child = static_cast<pid_t>(::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
        if (child == 0) {
            // Only holds the namespace until the runner has its fd (EOF on the pipe).
            hold.write.reset();
            char byte = 0;
            while (::read(hold.read.get(), &byte, 1) < 0 && errno == EINTR) {
            }
            ::_exit(0);
        }
        if (child < 0) {
            // Refused like the sandbox's own clone would be: the caller falls back to
            // rlimit-only mode, where there are no binds to idmap.
            const int err = errno;
            const std::string what = "creating the user namespace of an idmapped bind (clone): " + errno_text(err);
            if (err == EPERM || err == EACCES || err == EINVAL || err == ENOSPC || err == EUSERS || err == ENOSYS)
                throw NamespacesRefused(what, kExitInternal, err);
            throw Error(what, kExitInternal, err);
        }
    }
    ChildGuard guard(child);
    hold.read.reset();
    const std::string proc = "/proc/" + std::to_string(child) + "/";
    sys::write_file(proc + "uid_map", uid_map);
    sys::write_file(proc + "gid_map", gid_map);
    sys::UniqueFd ns = sys::open_fd(proc + "ns/user", O_RDONLY, "opening the idmap user namespace");
    hold.write.reset();
    int status = 0;
    sys::retry_eintr([&] { return ::waitpid(child, &status, 0); });
    guard.release();
    return ns;
}

IdmappedBinds prepare_idmapped_binds(const MountPlan& plan, const Identity& id) {
    IdmappedBinds out;
    if (!id.leased) return out;
    std::map<std::pair<uid_t, gid_t>, sys::UniqueFd> namespaces;  // one per (owner, group)
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        const MountOp& op = plan.ops[i];
        // A caller's tree (ExtraBind::tree) is attached as the caller captured it.
        if (op.kind != MountKind::Bind || op.access != BindAccess::ReadWrite || op.tree >= 0) continue;
        struct stat st{};
        sys::check(::stat(op.source.c_str(), &st), "inspecting " + op.source);
        if (st.st_uid == 0 || st.st_uid == id.outside_uid) continue;  // PID 1 binds it as it is
        sys::UniqueFd tree;
        try {
            tree = capture_bind(op);
        } catch (const Error& e) {
            // A runner without CAP_SYS_ADMIN (the host daemon's unit bounds it away).
            if (e.error_number() != EPERM) throw;
            warn_unmapped(op.source, "the runner may not clone mounts: " + std::string(e.what()), id, st.st_uid);
            continue;
        }
        sys::check(::fstat(tree.get(), &st), "inspecting " + op.source);
        if (st.st_uid == 0 || st.st_uid == id.outside_uid) continue;  // swapped meanwhile: bound as it is
        const gid_t group = st.st_gid == 0 ? id.outside_gid : st.st_gid;
        auto& ns = namespaces[{st.st_uid, group}];
        if (!ns)
            ns = make_idmap_userns(id, map_line(st.st_uid, id.outside_uid), map_line(group, id.outside_gid));
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_IDMAP;
        attr.userns_fd = static_cast<std::uint64_t>(ns.get());
        if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
            if (errno != EINVAL && errno != EPERM)
                throw_errno("idmapping " + op.source + " (mount_setattr MOUNT_ATTR_IDMAP)");
            warn_unmapped(op.source, errno == EINVAL ? "its file system does not support it" : errno_text(errno),
                          id, st.st_uid);
            continue;
        }
        out.described.push_back(op.source + ": uid " + std::to_string(st.st_uid) + " as " +
                                std::to_string(id.outside_uid) + ", gid " + std::to_string(group) + " as " +
                                std::to_string(id.outside_gid));
        out.trees.emplace(i, std::move(tree));
    }
    return out;
}

}  // namespace aj::helper
