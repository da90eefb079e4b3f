/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "firewall.h"
#include "macro.h"
#include "nfmon.h"

int nfmon_open(int *ret_fd) {
        _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                                        NETLINK_NETFILTER);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
                                  .nl_groups = 1u << (NFNLGRP_NFTABLES - 1) };

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Netlink's 4-byte alignment (the kernel's NLA_ALIGN, without its int arithmetic). */
static size_t align4(size_t n) {
        return (n + 3) & ~(size_t) 3;
}

#define ATTR_HDRLEN align4(sizeof(struct nlattr))

/* The table a table or chain event is about: attribute 1 in both (NFTA_TABLE_NAME,
 * NFTA_CHAIN_TABLE). */
static bool event_is_ours(const struct nlmsghdr *h) {
        const struct nfgenmsg *g = NLMSG_DATA(h);
        size_t off = align4(sizeof(struct nlmsghdr)) + align4(sizeof *g);

        if (h->nlmsg_len < off || g->nfgen_family != NFPROTO_INET)
                return false;
        while (off + ATTR_HDRLEN <= h->nlmsg_len) {
                const struct nlattr *a = (const struct nlattr *) ((const char *) h + off);
                size_t len = a->nla_len;

                if (len < ATTR_HDRLEN || off + len > h->nlmsg_len)
                        return false;
                if ((a->nla_type & NLA_TYPE_MASK) == 1) {
                        const char *name = (const char *) a + ATTR_HDRLEN;
                        size_t n = strnlen(name, len - ATTR_HDRLEN);
                        static const char *const ours[] = { FW_TABLE, FW_ACCT_TABLE, FW_LOCAL_TABLE };
                        for (size_t i = 0; i < ELEMENTSOF(ours); i++)
                                if (n == strlen(ours[i]) && memcmp(name, ours[i], n) == 0)
                                        return true;
                        return false;
                }
                off += align4(len);
        }
        return false;
}

int nfmon_drain(int fd) {
        static _Alignas(struct nlmsghdr) char buf[65536];
        bool changed = false;

        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, 0);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        if (errno == ENOBUFS) {
                                /* Events were dropped: any of them may have mattered. */
                                changed = true;
                                continue;
                        }
                        return -errno;
                }
                if (n == 0)
                        break;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n);
                     h = NLMSG_NEXT(h, n)) {
                        unsigned subsys = h->nlmsg_type >> 8, msg = h->nlmsg_type & 0xff;

                        if (subsys != NFNL_SUBSYS_NFTABLES)
                                continue;
                        if (msg != NFT_MSG_NEWTABLE && msg != NFT_MSG_DELTABLE &&
                            msg != NFT_MSG_NEWCHAIN && msg != NFT_MSG_DELCHAIN)
                                continue;
                        if (!event_is_ours(h))
                                changed = true;
                }
        }
        return changed;
}
