#include "runner/warm_pool.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "policy/error.hpp"
#include "runner/fd_passing.hpp"
#include "runner/queue.hpp"

namespace aj::runner {

namespace {

// An order is a request (at most kMaxRequestBytes) plus a few names (launcher.cpp).
constexpr std::size_t kMaxBouncedBytes = kMaxRequestBytes + 8192;

// The request of an order, when the pool may serve it: its plugin's own limits, a staged
// plugin. The daemon checked the request; this only reads it again.
struct Poolable {
    std::string state_dir, plugin;
};
std::optional<Poolable> poolable(const std::string& order_text) {
    const nlohmann::json order = nlohmann::json::parse(order_text, nullptr, /*allow_exceptions=*/false);
    if (!order.is_object() || !order.contains("request") || !order.value("state_dir", nlohmann::json()).is_string())
        return std::nullopt;
    Request req;
    try {
        req = parse_request(order["request"].dump());
    } catch (const Error&) {
        return std::nullopt;
    }
    if (req.timeout_given || req.memory_mb) return std::nullopt;
    Poolable p{order["state_dir"].get<std::string>(), req.plugin};
    // Only staged plugins: requests naming anything else must not make the launcher fork.
    struct stat st{};
    if (::stat((p.state_dir + "/plugins/" + p.plugin).c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
    return p;
}

}  // namespace

WarmPool::Plugin* WarmPool::pool_for(const std::string& state_dir, const std::string& plugin) {
    const std::string key = state_dir + '\0' + plugin;
    auto it = plugins_.find(key);
    if (it == plugins_.end()) {
        if (plugins_.size() >= kMaxWarmPlugins) {
            // The least recently used plugin gives its warm sandboxes up (their sockets close).
            auto oldest = std::min_element(plugins_.begin(), plugins_.end(), [](const auto& a, const auto& b) {
                return a.second.last_used < b.second.last_used;
            });
            plugins_.erase(oldest);
        }
        it = plugins_.emplace(key, Plugin{state_dir, plugin, {}, 0, false, 0}).first;
    }
    it->second.last_used = ++tick_;
    return &it->second;
}

bool WarmPool::take(const std::string& order, std::span<const int> fds) {
    if (per_plugin_ == 0) return false;
    const std::optional<Poolable> p = poolable(order);
    if (!p) return false;
    Plugin* plugin = pool_for(p->state_dir, p->plugin);
    if (plugin->given_up) return false;
    bool handed = false;
    for (auto it = plugin->idle.begin(); it != plugin->idle.end() && !handed;) {
        if (!it->ready) {
            ++it;
            continue;
        }
        try {
            send_with_fds(it->sock.get(), order, fds, "handing a request to a warm sandbox");
            handed = true;
            // Kept until its socket ends: it may still send the order back.
            it->plugin_key = plugin->state_dir + '\0' + plugin->id;
            serving_.splice(serving_.end(), plugin->idle, it++);
        } catch (const Error&) {
            it = plugin->idle.erase(it);  // it died while ready: the next one
        }
    }
    // A hand-over refills once that request is over (its socket ends): building the
    // replacement meanwhile would take CPU from the request on a small machine.
    if (!handed) refill(*plugin);
    return handed;
}

void WarmPool::refill(Plugin& plugin) {
    const unsigned want = std::min(per_plugin_, kMaxWarmPerPlugin);
    while (!plugin.given_up && plugin.idle.size() < want) {
        WarmProcess w;
        try {
            w = spawn_(plugin.state_dir, plugin.id);
        } catch (const Error& e) {
            std::fprintf(stderr, "aurora-jail host: launcher: warm sandbox for %s: %s\n", plugin.id.c_str(), e.what());
            return;  // the next order tries again
        }
        plugin.idle.push_back(Warm{w.pid, std::move(w.sock), false, {}});
    }
}

void WarmPool::watch(std::vector<pollfd>& fds) const {
    for (const auto& [key, plugin] : plugins_)
        for (const Warm& w : plugin.idle) fds.push_back({w.sock.get(), POLLIN, 0});
    for (const Warm& w : serving_) fds.push_back({w.sock.get(), POLLIN, 0});
}

std::vector<BouncedOrder> WarmPool::on_events(std::span<const pollfd> fds) {
    std::vector<BouncedOrder> back;
    for (const pollfd& p : fds)
        if (p.revents) on_event(p.fd, back);
    return back;
}

void WarmPool::on_event(int fd, std::vector<BouncedOrder>& back) {
    // Reads one message of the warm run process behind `fd`; true when its socket ended.
    auto read_one = [&back](Warm& w) {
        std::vector<sys::UniqueFd> got;
        std::string text;
        try {
            text = recv_with_fds(w.sock.get(), kMaxBouncedBytes, got, "reading a warm sandbox's socket");
        } catch (const Error&) {
            return true;  // ECONNRESET and the like: it is gone
        }
        if (text.empty()) return true;
        if (got.size() == 3) back.push_back({std::move(text), std::move(got)});
        else if (text == kWarmReady && got.empty()) w.ready = true;
        return false;
    };
    for (auto it = serving_.begin(); it != serving_.end(); ++it) {
        if (it->sock.get() != fd) continue;
        if (!read_one(*it)) return;
        const auto plugin = plugins_.find(it->plugin_key);
        serving_.erase(it);
        if (plugin != plugins_.end()) refill(plugin->second);
        return;
    }
    for (auto& [key, plugin] : plugins_) {
        for (auto it = plugin.idle.begin(); it != plugin.idle.end(); ++it) {
            if (it->sock.get() != fd) continue;
            const bool was_ready = it->ready;
            if (!read_one(*it)) {
                if (!was_ready && it->ready) plugin.failures = 0;
                return;
            }
            // Ended before any order: it could not build its sandbox (or was killed).
            if (!was_ready && ++plugin.failures >= kWarmBuildFailures) {
                plugin.given_up = true;
                std::fprintf(stderr,
                             "aurora-jail host: launcher: plugin %s is not kept warm any more: %u warm sandboxes "
                             "in a row ended before they were ready (its requests run cold)\n",
                             plugin.id.c_str(), plugin.failures);
            }
            plugin.idle.erase(it);
            return;
        }
    }
}

void WarmPool::discard_all() {
    for (auto& [key, plugin] : plugins_) plugin.idle.clear();
    plugins_.clear();
}

}  // namespace aj::runner
