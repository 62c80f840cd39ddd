// Descriptors sent over a Unix socket (SCM_RIGHTS) with the bytes they belong to: the host
// daemon hands each request's pipes and reply socket to its launcher process this way.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/sys.hpp"

namespace aj::runner {

// Sends `data` (not empty) and `fds` in one sendmsg; throws aj::Error naming `what`. A
// peer that has gone is EPIPE (never SIGPIPE: MSG_NOSIGNAL).
void send_with_fds(int sock, std::string_view data, std::span<const int> fds, std::string_view what);

// One recvmsg of at most `max` bytes: the bytes (empty at EOF), with every descriptor
// that came along appended to `fds` (close-on-exec). A truncated control message (more
// descriptors than expected) throws, after closing the ones that arrived.
std::string recv_with_fds(int sock, std::size_t max, std::vector<sys::UniqueFd>& fds, std::string_view what);

}  // namespace aj::runner
