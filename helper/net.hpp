// Networking inside the sandbox's own network namespace.
#pragma once

namespace aj::helper {

// Brings the loopback interface up over rtnetlink and checks the kernel's ACK.
void bring_up_loopback();

}  // namespace aj::helper
