// Run directories and background runs. Each run owns STATE/runs/RUN_ID/:
//   record.json   what `status` shows; rewritten atomically at each state change
//   work/         the sandbox's writable directory (its cwd, /work inside); owned by the
//                 sandbox's host uid (for a root caller, the ids leased for the run:
//                 helper/id_pool.hpp; give_work_dir() hands it over)
//   stdout.log, stderr.log, report.json   for background runs
// A background run is supervised by a detached process (double fork, setsid) whose pid
// is recorded with its start time (/proc/PID/stat field 22); `stop` signals through a
// pidfd only after checking that start time, so a recycled pid is never signalled.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/sys.hpp"
#include "runner/state_dir.hpp"

namespace aj::runner {

struct RunRecord {
    std::string id;
    std::string plugin;  // empty for a plain `run --detach`
    std::vector<std::string> argv;
    std::string state = "starting";  // starting, running, exited, stopped, failed, lost
    pid_t pid = 0;                   // the supervisor
    unsigned long long pid_start = 0;
    std::string started_at, ended_at;
    std::optional<int> exit_code;
    std::string error;
    bool stop_requested = false;
    // The sandbox's host uid/gid (the caller's own, or a root caller's leased ones).
    std::optional<uid_t> host_uid;
    std::optional<gid_t> host_gid;
};

nlohmann::json to_json(const RunRecord& r);
RunRecord run_record_from_json(const nlohmann::json& j);

// Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22), nullopt when
// there is no such process.
std::optional<unsigned long long> process_start_time(pid_t pid);

// Who may enter a run directory: only its owner, and a root caller's sandbox uid, which
// must pass through to work/ (mode 0710, group the sandbox's host gid; 0700 for an
// ordinary caller, whose sandbox is the caller). Nobody else reaches work/, so whatever a
// sandbox leaves there cannot be run or read by another local user.
void restrict_run_dir(int dir_fd, const std::string& what);

class RunRegistry {
public:
    explicit RunRegistry(const StateDir& state) : runs_(state.runs()) {}

    // A fresh run id and its directory with an empty work/ the sandbox may write.
    std::string create_run();
    // The same, for a run whose directory goes when the run does (`run --rm`, the host
    // daemon's runs). It carries a `disposable` file locked (flock) through `hold` for as
    // long as the creator lives, so that the directory of a creator killed before it
    // could clean up is recognised and removed by remove_abandoned_runs().
    std::string create_disposable_run(sys::UniqueFd& hold);
    // Removes the directories of disposable runs whose creator is gone (their lock is
    // free); returns how many. Every other run directory is left alone.
    std::size_t remove_abandoned_runs() const;
    std::string run_dir(const std::string& id) const;
    std::string work_dir(const std::string& id) const { return run_dir(id) + "/work"; }
    // Creates RUN_DIR/NAME (mode 0700) owned by the sandbox's host uid, like work/, and
    // returns its path (the plugin run's overlay work directory).
    std::string create_sandbox_dir(const std::string& id, const std::string& name) const;

    // Makes work/ the sandbox's own: chowned to its host uid/gid (a no-op when they are
    // already the caller's).
    void give_work_dir(const std::string& id, uid_t uid, gid_t gid) const;

    void write(const RunRecord& record) const;
    // Throws "unknown run ID" when there is none. A record saying running whose
    // supervisor is gone (pid dead or recycled) is returned with state "lost".
    RunRecord read(const std::string& id) const;
    // Every run with a record, oldest first.
    std::vector<RunRecord> list() const;
    // SIGTERM to the supervisor (forwarded into the sandbox), SIGKILL after `grace_sec`
    // (the sandbox dies with its supervisor). Returns the final record.
    RunRecord stop(const std::string& id, double grace_sec) const;
    // Removes the whole run directory.
    void remove(const std::string& id) const;
    // Removes the directories of background runs that have ended (exited, stopped, failed,
    // lost); returns their records. Running and starting runs are kept.
    std::vector<RunRecord> prune_ended() const;

    // Starts `body` in a detached supervisor and returns once its record says running.
    // The supervisor: own session, stdin /dev/null, stdout/stderr to the run's logs;
    // `body` returns the exit status and may throw aj::Error (state "failed").
    void start_detached(RunRecord record, const std::function<int()>& body) const;

private:
    // mkdir (0700) and open of `name` in the runs directory `runs`; empty when it exists.
    sys::UniqueFd make_run_dir(int runs, const std::string& name) const;
    std::string runs_;
};

}  // namespace aj::runner
