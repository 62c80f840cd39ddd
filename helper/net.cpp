#include "helper/net.hpp"

#include <net/if.h>  // before any linux/ header: it defines IFF_UP itself
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "policy/error.hpp"

namespace aj::helper {

namespace {
struct SocketCloser {
    void operator()(mnl_socket* s) const noexcept { mnl_socket_close(s); }
};
}  // namespace

void bring_up_loopback() {
    // A fresh network namespace has exactly one interface, lo, always index 1; asking by
    // name keeps this honest should that ever change.
    unsigned index = ::if_nametoindex("lo");
    if (index == 0) throw_errno("bringing up lo: if_nametoindex");

    std::unique_ptr<mnl_socket, SocketCloser> nl(mnl_socket_open(NETLINK_ROUTE));
    if (!nl) throw_errno("bringing up lo: netlink socket");
    if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) throw_errno("bringing up lo: netlink bind");

    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    auto seq = static_cast<unsigned>(::time(nullptr));
    nlh->nlmsg_seq = seq;
    auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = static_cast<int>(index);
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = IFF_UP;

    if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) throw_errno("bringing up lo: netlink send");
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) throw_errno("bringing up lo: netlink receive");
    // The ACK is an NLMSG_ERROR whose error is 0; anything else is the kernel's refusal.
    if (mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, mnl_socket_get_portid(nl.get()), nullptr,
                   nullptr) < 0)
        throw_errno("bringing up lo: RTM_NEWLINK");
}

}  // namespace aj::helper
