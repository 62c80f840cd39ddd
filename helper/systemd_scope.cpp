#include "helper/systemd_scope.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "helper/libsystemd_loader.hpp"
#include "policy/error.hpp"
#include "policy/random_name.hpp"
#include "policy/sys.hpp"

namespace aj::helper {
namespace {

// Owners of sd-bus objects, released through the loaded library's own functions.
struct BusClose {
    decltype(&::sd_bus_flush_close_unref) close;
    void operator()(sd_bus* bus) const { close(bus); }
};
using Bus = std::unique_ptr<sd_bus, BusClose>;
struct MessageUnref {
    decltype(&::sd_bus_message_unref) unref;
    void operator()(sd_bus_message* m) const { unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;
struct SlotUnref {
    decltype(&::sd_bus_slot_unref) unref;
    void operator()(sd_bus_slot* slot) const { unref(slot); }
};
using Slot = std::unique_ptr<sd_bus_slot, SlotUnref>;

class BusError {
public:
    explicit BusError(const LibSystemd& sd) : sd_(sd) {}
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_.error_free(&error_); }
    sd_bus_error* get() { return &error_; }
    // "org.freedesktop.DBus.Error.AccessDenied: message", or the errno for r.
    std::string text(int r) const {
        if (sd_.error_is_set(&error_))
            return std::string(error_.name) + (error_.message ? std::string(": ") + error_.message : "");
        return errno_text(-r);
    }

private:
    const LibSystemd& sd_;
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

// sd-bus answers a negative errno; every failure here ends the attempt with its reason.
void check(int r, const std::string& what) {
    if (r < 0) throw Error(what + ": " + errno_text(-r));
}

// The JobRemoved signal of our unit's start job (matched by unit name: the signal may
// arrive before StartTransientUnit's reply names the job).
struct JobWatch {
    const LibSystemd& sd;
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
    if (watch->sd.message_read(m, "uoss", &id, &job, &unit, &result) < 0) return 0;
    if (watch->unit == unit) {
        watch->done = true;
        watch->result = result;
    }
    return 0;
}

Message start_transient_scope_call(const LibSystemd& sd, sd_bus* bus, const std::string& unit) {
    sd_bus_message* raw = nullptr;
    check(sd.message_new_method_call(bus, &raw, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "StartTransientUnit"),
          "building StartTransientUnit");
    Message m(raw, MessageUnref{sd.message_unref});
    // Only a manager already running may answer: the bus must not start one for us.
    check(sd.message_set_auto_start(m.get(), 0), "building StartTransientUnit");
    const std::string description = "aurora-jail sandboxes of PID " + std::to_string(::getpid());
    // "fail": never replace a queued job of a unit of the same name (there is none).
    check(sd.message_append(m.get(), "ss", unit.c_str(), "fail"), "building StartTransientUnit");
    check(sd.message_open_container(m.get(), 'a', "(sv)"), "building StartTransientUnit");
    check(sd.message_append(m.get(), "(sv)", "PIDs", "au", 1, static_cast<std::uint32_t>(::getpid())),
          "building StartTransientUnit");
    check(sd.message_append(m.get(), "(sv)", "Delegate", "b", 1), "building StartTransientUnit");
    // A scope whose start failed is not kept around as "failed" for someone to reset.
    check(sd.message_append(m.get(), "(sv)", "CollectMode", "s", "inactive-or-failed"),
          "building StartTransientUnit");
    check(sd.message_append(m.get(), "(sv)", "Description", "s", description.c_str()),
          "building StartTransientUnit");
    check(sd.message_close_container(m.get()), "building StartTransientUnit");
    check(sd.message_append(m.get(), "a(sa(sv))", 0), "building StartTransientUnit");
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

void join(const LibSystemd& sd, SystemdScope& scope, std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    sd_bus* raw = nullptr;
    const bool user = ::geteuid() != 0;
    scope.manager = user ? "user" : "system";
    int r = user ? sd.bus_open_user(&raw) : sd.bus_open_system(&raw);
    check(r, std::string("no ") + scope.manager + " bus (" + (user ? "sd_bus_open_user" : "sd_bus_open_system") + ")");
    Bus bus(raw, BusClose{sd.bus_flush_close_unref});

    const std::string unit = "aurora-jail-" + std::to_string(::getpid()) + "-" + sys::random_hex(4) + ".scope";
    JobWatch watch{sd, unit, false, ""};
    sd_bus_slot* slot_raw = nullptr;
    check(sd.bus_match_signal(bus.get(), &slot_raw, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                              "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &watch),
          "subscribing to the " + scope.manager + " manager's JobRemoved");
    Slot slot(slot_raw, SlotUnref{sd.bus_slot_unref});

    Message call = start_transient_scope_call(sd, bus.get(), unit);
    BusError error(sd);
    sd_bus_message* reply_raw = nullptr;
    const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
    r = sd.bus_call(bus.get(), call.get(), static_cast<std::uint64_t>(std::max<std::int64_t>(left.count(), 1)),
                    error.get(), &reply_raw);
    Message reply(reply_raw, MessageUnref{sd.message_unref});
    if (r < 0) throw Error("the " + scope.manager + " manager refused StartTransientUnit " + unit + ": " + error.text(r));

    while (!watch.done) {
        r = sd.bus_process(bus.get(), nullptr);
        check(r, "reading the " + scope.manager + " bus");
        if (r > 0) continue;
        const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
        if (wait.count() <= 0)
            throw Error("the start of " + unit + " did not finish within " + std::to_string(budget.count()) + " ms");
        r = sd.bus_wait(bus.get(), static_cast<std::uint64_t>(wait.count()));
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

bool systemd_is_init() {
    // sd_booted()'s own test, without loading libsystemd to ask it.
    struct stat st {};
    return ::lstat("/run/systemd/system/", &st) == 0 && S_ISDIR(st.st_mode);
}

SystemdScope join_delegated_scope(std::chrono::milliseconds budget) {
    std::string why_not;
    const LibSystemd* sd = process_libsystemd(why_not);
    if (!sd) {
        SystemdScope scope;
        scope.manager = ::geteuid() != 0 ? "user" : "system";
        scope.why_not = "systemd scope: " + why_not;
        return scope;
    }
    return join_delegated_scope(*sd, budget);
}

SystemdScope join_delegated_scope(const LibSystemd& sd, std::chrono::milliseconds budget) {
    SystemdScope scope;
    try {
        join(sd, scope, budget);
    } catch (const std::exception& e) {
        scope.unit.clear();
        scope.why_not = std::string("systemd scope: ") + e.what();
    }
    return scope;
}

}  // namespace aj::helper
