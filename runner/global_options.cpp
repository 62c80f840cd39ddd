#include "runner/global_options.hpp"

#include <cstdlib>
#include <string_view>

#include "policy/error.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

std::vector<char*> apply_global_options(int argc, char** argv) {
    std::vector<char*> rest{argv[0]};
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view word = argv[i];
        std::string value;
        if (word == "--state-dir") {
            if (i + 1 >= argc) throw Error("--state-dir needs a directory (aurora-jail --state-dir DIR COMMAND ...)");
            value = argv[++i];
        } else if (word.starts_with("--state-dir=")) {
            value = word.substr(word.find('=') + 1);
        } else {
            break;
        }
        if (value.empty()) throw Error("--state-dir: empty directory name");
        if (::setenv(kStateDirEnv, resolve_state_dir(value).c_str(), 1) != 0) throw_errno("setenv");
    }
    rest.insert(rest.end(), argv + i, argv + argc);
    rest.push_back(nullptr);
    return rest;
}

}  // namespace aj::runner
