// runtime-tools' default mounts, as its generator (generate.New) writes them into every
// validation's config.json: the OCI tests map them (unit) and mount them (integration).
#pragma once

#include <nlohmann/json.hpp>

namespace aj::test {

inline nlohmann::json runtime_tools_default_mounts() {
    using nlohmann::json;
    return json::array(
        {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
         {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"},
          {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
         {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
          {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
         {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"},
          {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
         {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"},
          {"options", {"nosuid", "noexec", "nodev"}}},
         {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}}});
}

}  // namespace aj::test
