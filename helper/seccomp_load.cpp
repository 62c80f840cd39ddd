#include "helper/seccomp_load.hpp"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <limits>

#include "policy/error.hpp"

namespace aj::helper {

sys::UniqueFd load_seccomp(const policy::SeccompProgram& program) {
    if (program.instructions.empty()) throw Error("loading seccomp filter: the compiled program is empty");
    if (program.instructions.size() > std::numeric_limits<unsigned short>::max())
        throw Error("loading seccomp filter: program too long");
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program.instructions.size());
    // The kernel copies the program; it never writes through this pointer.
    prog.filter = const_cast<sock_filter*>(program.instructions.data());
    const bool listener = policy::needs_listener(program);
    const unsigned flags = program.flags | (listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0U);
    const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (rc < 0)
        throw_errno("loading seccomp filter (" + std::to_string(prog.len) + " instructions" +
                    (listener ? ", with a listener" : "") + ")");
    return sys::UniqueFd(listener ? static_cast<int>(rc) : -1);
}

}  // namespace aj::helper
