// `aurora-jail policy validate|show|compile|write|list`: thin face over policy/.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <set>

#include "policy/sys.hpp"
#include "policy/default_policy.hpp"
#include "policy/error.hpp"
#include "policy/parse.hpp"
#include "policy/policy_dirs.hpp"
#include "policy/seccomp_compile.hpp"
#include "policy/store.hpp"
#include "runner/commands.hpp"

namespace aj::runner {
namespace {

struct PolicyOptions {
    std::vector<std::string> files;
    std::string target;        // FILE or NAME; empty: the built-in default
    std::string policy_dir;
    std::string bpf_out;
    std::string name;
    std::string file;
};

policy::Policy policy_for(const PolicyOptions& o) {
    if (o.target.empty()) return policy::default_policy();
    return policy::resolve_policy(o.target, policy::policy_search_dirs(o.policy_dir)).policy;
}

int validate(const PolicyOptions& o) {
    for (const auto& f : o.files) {
        policy::load_policy_file(f);
        std::cout << f << ": ok\n";
    }
    return 0;
}

int show(const PolicyOptions& o) {
    std::cout << policy::to_json(policy_for(o)).dump(2) << "\n";
    return 0;
}

int compile(const PolicyOptions& o) {
    const policy::Policy p = policy_for(o);
    if (!o.bpf_out.empty()) {
        // The program namespaces mode loads: refusals delivered to the supervisor.
        const policy::SeccompProgram prog = policy::compile_seccomp(p, policy::DenialDelivery::Supervisor);
        std::string_view bytes(reinterpret_cast<const char*>(prog.instructions.data()),
                               prog.instructions.size() * sizeof(sock_filter));
        sys::UniqueFd fd = sys::open_fd(o.bpf_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, "writing BPF to " + o.bpf_out, 0644);
        sys::write_all(fd.get(), bytes, "writing BPF to " + o.bpf_out);
        if (::close(fd.release()) != 0 && errno != EINTR) throw_errno("writing BPF to " + o.bpf_out);
    }
    std::cout << policy::seccomp_pseudo_code(p, policy::DenialDelivery::Supervisor);
    return 0;
}

int write(const PolicyOptions& o) {
    const std::string text = policy::read_policy_text(o.file);
    const std::string path = policy::write_policy(policy::policy_write_dir(o.policy_dir), o.name, text, o.file);
    std::cout << path << "\n";
    return 0;
}

// With --policy-dir, that directory's names; otherwise every name the search order can
// resolve (a name in two directories once: the first one wins when it is used).
int list(const PolicyOptions& o) {
    const std::vector<std::string> dirs =
        o.policy_dir.empty() ? policy::policy_search_dirs("") : std::vector<std::string>{o.policy_dir};
    std::set<std::string> names;
    for (const auto& dir : dirs)
        for (auto& n : policy::list_policies(dir)) names.insert(std::move(n));
    for (const auto& n : names) std::cout << n << "\n";
    return 0;
}

}  // namespace

void register_policy_command(CLI::App& app, Action& action) {
    auto opts = std::make_shared<PolicyOptions>();
    auto* sub = app.add_subcommand("policy", "Validate, show, compile and store jail policies");
    sub->require_subcommand(1);
    const std::string dir_help =
        "Policy directory (default: $AURORA_JAIL_POLICY_DIR, then yours: $XDG_CONFIG_HOME/aurora-jail/policies "
        "or ~/.config/aurora-jail/policies (not for root), then " + std::string(policy::kSystemPolicyDir) + ")";

    auto* v = sub->add_subcommand("validate", "Check policy files: prints FILE: ok, or one error line");
    v->add_option("FILE", opts->files, "Policy files")->required();
    v->callback([&action, opts] { action = [opts] { return validate(*opts); }; });

    auto* s = sub->add_subcommand("show", "Print the normalised policy (all defaults filled in) as JSON");
    s->add_option("POLICY", opts->target, "Policy file or name (default: the built-in policy)");
    s->add_option("--policy-dir", opts->policy_dir, dir_help);
    s->callback([&action, opts] { action = [opts] { return show(*opts); }; });

    auto* c = sub->add_subcommand("compile", "Print the seccomp program as libseccomp pseudo code");
    c->add_option("POLICY", opts->target, "Policy file or name (default: the built-in policy)");
    c->add_option("--bpf", opts->bpf_out, "Also write the raw BPF program (struct sock_filter[]) to this file");
    c->add_option("--policy-dir", opts->policy_dir, dir_help);
    c->callback([&action, opts] { action = [opts] { return compile(*opts); }; });

    auto* w = sub->add_subcommand("write", "Validate FILE and store it atomically as NAME in your policy directory (root: the system one)");
    w->add_option("NAME", opts->name, "Policy name ([A-Za-z0-9][A-Za-z0-9._-]{0,63})")->required();
    w->add_option("FILE", opts->file, "Policy file to store")->required();
    w->add_option("--policy-dir", opts->policy_dir, dir_help);
    w->callback([&action, opts] { action = [opts] { return write(*opts); }; });

    auto* l = sub->add_subcommand("list", "List the policy names that --policy NAME can use (every directory searched)");
    l->add_option("--policy-dir", opts->policy_dir, dir_help);
    l->callback([&action, opts] { action = [opts] { return list(*opts); }; });
}

}  // namespace aj::runner
