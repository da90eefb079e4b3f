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
                        static const char *const ours[] = { FW_TABLE, FW_ACCT_TABLE };
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
                struct sockaddr_nl from = {};
                socklen_t from_len = sizeof from;
                ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &from_len);

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
                /* Only the kernel speaks on this group. */
                if (from.nl_pid != 0)
                        continue;
                for (size_t off = 0, len; off + sizeof(struct nlmsghdr) <= (size_t) n; off += align4(len)) {
                        const struct nlmsghdr *h = (const struct nlmsghdr *) (buf + off);
                        unsigned subsys = h->nlmsg_type >> 8, msg = h->nlmsg_type & 0xff;

                        len = h->nlmsg_len;
                        if (len < sizeof *h || len > (size_t) n - off)
                                break;
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
