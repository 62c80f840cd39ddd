// PLACEHOLDER: replaced by the real sub-command in this same change series.
#include "policy/error.hpp"
#include "runner/commands.hpp"
namespace aj::runner {
void register_policy_command(CLI::App& app, Action& action) {
    auto* sub = app.add_subcommand("policy", "not yet built");
    sub->callback([&action] { action = [] () -> int { throw Error("policy: not implemented yet"); }; });
}
}  // namespace aj::runner
