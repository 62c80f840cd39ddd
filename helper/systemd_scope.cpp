#include "helper/systemd_scope.hpp"

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "policy/error.hpp"
#include "policy/random_name.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

struct BusClose {
    void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusClose>;
struct MessageUnref {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;
struct SlotUnref {
    void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
using Slot = std::unique_ptr<sd_bus_slot, SlotUnref>;

class BusError {
public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&error_); }
    sd_bus_error* get() { return &error_; }
    // "org.freedesktop.DBus.Error.AccessDenied: message", or the errno for r.
    std::string text(int r) const {
        if (sd_bus_error_is_set(&error_))
            return std::string(error_.name) + (error_.message ? std::string(": ") + error_.message : "");
        return errno_text(-r);
    }

private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

// sd-bus answers a negative errno; every failure here ends the attempt with its reason.
void check(int r, const std::string& what) {
    if (r < 0) throw Error(what + ": " + errno_text(-r));
}

// The JobRemoved signal of our unit's start job (matched by unit name: the signal may
// arrive before StartTransientUnit's reply names the job).
struct JobWatch {
    std::string unit;
    bool done = false;
    std::string result;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error* /*ret_error*/) {
    auto* watch = static_cast<JobWatch*>(userdata);
    std::uint32_t id = 0;
    const char* job = nullptr;
    const char* unit = nullptr;
    const char* result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
    if (watch->unit == unit) {
        watch->done = true;
        watch->result = result;
    }
    return 0;
}

Message start_transient_scope_call(sd_bus* bus, const std::string& unit) {
    sd_bus_message* raw = nullptr;
    check(sd_bus_message_new_method_call(bus, &raw, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "StartTransientUnit"),
          "building StartTransientUnit");
    Message m(raw);
    // Only a manager already running may answer: the bus must not start one for us.
    check(sd_bus_message_set_auto_start(m.get(), 0), "building StartTransientUnit");
    const std::string description = "aurora-jail sandboxes of PID " + std::to_string(::getpid());
    // "fail": never replace a queued job of a unit of the same name (there is none).
    check(sd_bus_message_append(m.get(), "ss", unit.c_str(), "fail"), "building StartTransientUnit");
    check(sd_bus_message_open_container(m.get(), 'a', "(sv)"), "building StartTransientUnit");
    check(sd_bus_message_append(m.get(), "(sv)", "PIDs", "au", 1, static_cast<std::uint32_t>(::getpid())),
          "building StartTransientUnit");
    check(sd_bus_message_append(m.get(), "(sv)", "Delegate", "b", 1), "building StartTransientUnit");
    // A scope whose start failed is not kept around as "failed" for someone to reset.
    check(sd_bus_message_append(m.get(), "(sv)", "CollectMode", "s", "inactive-or-failed"),
          "building StartTransientUnit");
    check(sd_bus_message_append(m.get(), "(sv)", "Description", "s", description.c_str()),
          "building StartTransientUnit");
    check(sd_bus_message_close_container(m.get()), "building StartTransientUnit");
    check(sd_bus_message_append(m.get(), "a(sa(sv))", 0), "building StartTransientUnit");
    return m;
}

// The cgroup v2 path of this process ("0::/user.slice/...").
std::string own_v2_cgroup() {
    std::string text = sys::read_file("/proc/self/cgroup");
    std::size_t at = text.find("0::");
    if (at == std::string::npos || (at != 0 && text[at - 1] != '\n')) return "";
    std::size_t end = text.find('\n', at);
    return text.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
}

void join(SystemdScope& scope, std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    sd_bus* raw = nullptr;
    const bool user = ::geteuid() != 0;
    scope.manager = user ? "user" : "system";
    int r = user ? sd_bus_open_user(&raw) : sd_bus_open_system(&raw);
    check(r, std::string("no ") + scope.manager + " bus (" + (user ? "sd_bus_open_user" : "sd_bus_open_system") + ")");
    Bus bus(raw);

    const std::string unit = "aurora-jail-" + std::to_string(::getpid()) + "-" + sys::random_hex(4) + ".scope";
    JobWatch watch{unit, false, ""};
    sd_bus_slot* slot_raw = nullptr;
    check(sd_bus_match_signal(bus.get(), &slot_raw, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &watch),
          "subscribing to the " + scope.manager + " manager's JobRemoved");
    Slot slot(slot_raw);

    Message call = start_transient_scope_call(bus.get(), unit);
    BusError error;
    sd_bus_message* reply_raw = nullptr;
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    r = sd_bus_call(bus.get(), call.get(), static_cast<std::uint64_t>(std::max<std::int64_t>(left.count(), 1)),
                    error.get(), &reply_raw);
    Message reply(reply_raw);
    if (r < 0) throw Error("the " + scope.manager + " manager refused StartTransientUnit " + unit + ": " + error.text(r));

    while (!watch.done) {
        r = sd_bus_process(bus.get(), nullptr);
        check(r, "reading the " + scope.manager + " bus");
        if (r > 0) continue;
        const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (wait.count() <= 0)
            throw Error("the start of " + unit + " did not finish within " + std::to_string(budget.count()) + " ms");
        r = sd_bus_wait(bus.get(), static_cast<std::uint64_t>(wait.count()));
        if (r != -EINTR) check(r, "waiting on the " + scope.manager + " bus");
    }
    if (watch.result != "done") throw Error("the start job of " + unit + " ended with result \"" + watch.result + "\"");
    const std::string now_in = own_v2_cgroup();
    const std::string suffix = "/" + unit;
    if (now_in.size() < suffix.size() || now_in.compare(now_in.size() - suffix.size(), suffix.size(), suffix) != 0)
        throw Error("systemd started " + unit + " but this process is in " + now_in);
    scope.unit = unit;
}

}  // namespace

bool systemd_is_init() { return sd_booted() > 0; }

SystemdScope join_delegated_scope(std::chrono::milliseconds budget) {
    SystemdScope scope;
    try {
        join(scope, budget);
    } catch (const std::exception& e) {
        scope.unit.clear();
        scope.why_not = std::string("systemd scope: ") + e.what();
    }
    return scope;
}

}  // namespace aj::helper
