#include "policy/path_calls.hpp"

namespace aj::policy {

const std::vector<PathCall>& path_calls() {
    using U = PathCall::Use;
    static const std::vector<PathCall> calls = {
        {"open", U::Open, {0, -1}, {}, 1},
        {"openat", U::Open, {1, 0}, {}, 2},
        {"creat", U::Entries, {0, -1}},
        {"stat", U::Read, {0, -1}},
        {"lstat", U::Read, {0, -1}},
        {"newfstatat", U::Read, {1, 0}},
        {"statx", U::Read, {1, 0}},
        {"access", U::Read, {0, -1}},
        {"faccessat", U::Read, {1, 0}},
        {"faccessat2", U::Read, {1, 0}},
        {"readlink", U::Read, {0, -1}},
        {"readlinkat", U::Read, {1, 0}},
        {"chdir", U::Read, {0, -1}},
        {"truncate", U::Write, {0, -1}},
        {"mkdir", U::Entries, {0, -1}},
        {"mkdirat", U::Entries, {1, 0}},
        {"rmdir", U::Entries, {0, -1}},
        {"unlink", U::Entries, {0, -1}},
        {"unlinkat", U::Entries, {1, 0}},
        {"rename", U::Entries, {0, -1}, {1, -1}},
        {"renameat", U::Entries, {1, 0}, {3, 2}},
        {"renameat2", U::Entries, {1, 0}, {3, 2}},
        {"link", U::Entries, {0, -1}, {1, -1}},
        {"linkat", U::Entries, {1, 0}, {3, 2}},
        {"symlink", U::Entries, {1, -1}},
        {"symlinkat", U::Entries, {2, 1}},
    };
    return calls;
}

}  // namespace aj::policy
