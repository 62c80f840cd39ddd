// Build step: compiles the default policy's supervised seccomp program (the one
// namespaces mode loads) with the libseccomp this build links and writes it, with that
// library's build id, as C++ source (helper/seccomp_precompiled.hpp). Usage: aj_precompile_seccomp OUTPUT.cpp
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>

#include "policy/default_policy.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/seccomp_unknown_numbers.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT.cpp\n", argv[0]);
        return 2;
    }
    try {
        const aj::policy::SeccompProgram program = aj::policy::compile_seccomp(aj::policy::default_policy(), aj::policy::DenialDelivery::Supervisor);
        const std::string id = aj::policy::seccomp_compiler_build_id();
        const std::string tmp = std::string(argv[1]) + ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << "// Generated at build time by aj_precompile_seccomp: the default policy's\n"
                   "// seccomp program as libseccomp (build id below) compiles it. Do not edit.\n"
                   "#include \"helper/seccomp_precompiled.hpp\"\n\n"
                   "namespace aj::helper::precompiled {\n\n"
                << "const char kDefaultProgramCompilerId[] = \"" << id << "\";\n"
                << "const sock_filter kDefaultProgram[] = {\n";
            for (const sock_filter& f : program.instructions)
                out << "    {" << f.code << ", " << unsigned{f.jt} << ", " << unsigned{f.jf} << ", " << f.k << "u},\n";
            const aj::policy::KnownSyscallNumbers known = aj::policy::scan_known_syscall_numbers();
            out << "};\n"
                << "const std::size_t kDefaultProgramLength = " << program.instructions.size() << ";\n"
                << "const policy::KnownSyscallNumbers kKnownSyscallNumbers = {" << known.x86_64_max << "u, "
                << known.i386_max << "u, " << known.x32_common_max << "u, " << known.x32_max << "u};\n\n"
                << "}  // namespace aj::helper::precompiled\n";
            out.close();
            if (!out) throw std::runtime_error("writing " + tmp);
        }
        if (std::rename(tmp.c_str(), argv[1]) != 0) throw std::runtime_error("renaming " + tmp);
        std::printf("aj_precompile_seccomp: %zu instructions, libseccomp build id %s\n",
                    program.instructions.size(), id.empty() ? "(none: the program will not be used)" : id.c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "aj_precompile_seccomp: %s\n", e.what());
        return 1;
    }
}
