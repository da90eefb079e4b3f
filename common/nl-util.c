/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <netlink/errno.h>

#include "nl-util.h"

int nlerr_to_errno(int nlerr) {
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case NLE_SUCCESS:
                return 0;
        case NLE_INTR:
                return -EINTR;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_RANGE:
                return -ERANGE;
        case NLE_MSGSIZE:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:
                return -ENOENT;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_PERM:
                return -EPERM;
        case NLE_NODEV:
                return -ENODEV;
        case NLE_DUMP_INTR:
                return -EINTR;
        default:
                return -EIO;
        }
}

struct nl_addr *nl_addr_ipv4(uint32_t addr, unsigned prefix_len) {
        struct in_addr a = { .s_addr = htonl(addr) };
        struct nl_addr *na = nl_addr_build(AF_INET, &a, sizeof a);

        if (na)
                nl_addr_set_prefixlen(na, (int) prefix_len);
        return na;
}
