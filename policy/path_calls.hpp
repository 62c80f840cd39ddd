// The system calls that name a path in their arguments, as `aurora-jail learn` reads
// them (helper/learn_supervisor.hpp): where the path is, relative to which directory,
// and whether the call reads or changes what it names. One table for the learning
// program (policy/seccomp_compile.cpp delivers these calls) and for the learner.
#pragma once

#include <string_view>
#include <vector>

namespace aj::policy {

struct PathArgument {
    int path = -1;   // argument index of the path; -1: none
    int dirfd = -1;  // argument index of the directory fd it is relative to; -1: the cwd
};

struct PathCall {
    enum class Use {
        Read,       // looks at it (stat, access, readlink, chdir, a read-only open)
        Write,      // changes it in place (truncate)
        Open,       // open family: read or write as the flags say
        Entries,    // creates, removes or renames entries: the directory holding them is written
    };
    std::string_view syscall;
    Use use;
    PathArgument first;
    PathArgument second = {};  // rename's and link's other name
    int flags = -1;            // Use::Open: the flags argument
};

// execve is not among them: the command's own execve happens before the supervisor
// holds the listener (helper/launch.cpp, start_command), so delivering it would never end.
const std::vector<PathCall>& path_calls();

}  // namespace aj::policy
