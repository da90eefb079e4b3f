/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "macro.h"
#include "rtnl.h"

/* NLA_ALIGN() and NLA_HDRLEN, in size_t: the kernel's are int. */
#define RTNL_ALIGN(len) (((size_t) (len) + 3u) & ~(size_t) 3u)
#define RTNL_ATTR_HDRLEN RTNL_ALIGN(sizeof(struct nlattr))

int rtnl_open(Rtnl *ret) {
        _cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
        int one = 1;

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* An error carries the failed request's header only, not the whole request. */
        (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
        *ret = (Rtnl) { .fd = TAKE_FD(fd), .seq = 1 };
        return 0;
}

Rtnl rtnl_close(Rtnl *r) {
        if (r)
                r->fd = safe_close(r->fd);
        return RTNL_NULL;
}

static void *rtnl_tail(RtnlBatch *b, size_t want) {
        if (b->overflow || want > sizeof b->buf - b->len) {
                b->overflow = true;
                return NULL;
        }
        return b->buf + b->len;
}

struct nlmsghdr *rtnl_batch_put(RtnlBatch *b, Rtnl *rt, uint16_t type, uint16_t flags,
                                const void *hdr, size_t hdr_len) {
        struct nlmsghdr *nlh;

        if (b->n >= RTNL_BATCH_MAX) {
                b->overflow = true;
                return NULL;
        }
        nlh = rtnl_tail(b, NLMSG_SPACE(hdr_len));
        if (!nlh)
                return NULL;
        if (b->n == 0)
                b->first_seq = rt->seq;
        memset(nlh, 0, NLMSG_SPACE(hdr_len));
        *nlh = (struct nlmsghdr) {
                .nlmsg_len = (uint32_t) NLMSG_LENGTH(hdr_len),
                .nlmsg_type = type,
                .nlmsg_flags = (uint16_t) (NLM_F_REQUEST | NLM_F_ACK | flags),
                .nlmsg_seq = rt->seq++,
        };
        memcpy(NLMSG_DATA(nlh), hdr, hdr_len);
        b->error[b->n++] = 0;
        b->len += NLMSG_ALIGN(nlh->nlmsg_len);
        return nlh;
}

/* Grow the last message by an attribute's space; b->len follows it. */
static struct nlattr *rtnl_attr_reserve(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type,
                                        size_t len) {
        struct nlattr *a;

        if (!nlh)
                return NULL;
        a = rtnl_tail(b, RTNL_ALIGN(RTNL_ATTR_HDRLEN + len));
        if (!a)
                return NULL;
        memset(a, 0, RTNL_ALIGN(RTNL_ATTR_HDRLEN + len));
        a->nla_type = type;
        a->nla_len = (uint16_t) (RTNL_ATTR_HDRLEN + len);
        nlh->nlmsg_len = (uint32_t) (NLMSG_ALIGN(nlh->nlmsg_len) + RTNL_ALIGN(a->nla_len));
        b->len += RTNL_ALIGN(RTNL_ATTR_HDRLEN + len);
        return a;
}

void rtnl_put_attr(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type, const void *data,
                   size_t len) {
        struct nlattr *a;

        if (len > UINT16_MAX - RTNL_ATTR_HDRLEN) {
                b->overflow = true;
                return;
        }
        a = rtnl_attr_reserve(b, nlh, type, len);
        if (a && len > 0)
                memcpy((uint8_t *) a + RTNL_ATTR_HDRLEN, data, len);
}

void rtnl_put_u32(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type, uint32_t v) {
        rtnl_put_attr(b, nlh, type, &v, sizeof v);
}

void rtnl_put_str(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type, const char *s) {
        rtnl_put_attr(b, nlh, type, s, strlen(s) + 1);
}

void rtnl_put_raw(RtnlBatch *b, struct nlmsghdr *nlh, const void *data, size_t len) {
        uint8_t *p;

        if (!nlh)
                return;
        p = rtnl_tail(b, NLMSG_ALIGN(len));
        if (!p)
                return;
        memset(p, 0, NLMSG_ALIGN(len));
        memcpy(p, data, len);
        nlh->nlmsg_len = (uint32_t) (NLMSG_ALIGN(nlh->nlmsg_len) + NLMSG_ALIGN(len));
        b->len += NLMSG_ALIGN(len);
}

struct nlattr *rtnl_nest_start(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type) {
        return rtnl_attr_reserve(b, nlh, (uint16_t) (type | NLA_F_NESTED), 0);
}

void rtnl_nest_end(struct nlmsghdr *nlh, struct nlattr *nest) {
        if (nest)
                nest->nla_len = (uint16_t) ((uint8_t *) nlh + nlh->nlmsg_len - (uint8_t *) nest);
}

int rtnl_batch_send(Rtnl *rt, RtnlBatch *b) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct iovec iov = { .iov_base = b->buf, .iov_len = b->len };
        struct msghdr mh = { .msg_name = &kernel, .msg_namelen = sizeof kernel,
                             .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (b->overflow)
                return -ENOBUFS;
        if (b->n == 0)
                return 0;
        /* sendmsg(), not send(): one system call per batch, which test_crash_links counts. */
        do
                n = sendmsg(rt->fd, &mh, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t) n == b->len ? 0 : -EIO;
}

int rtnl_batch_wait(Rtnl *rt, RtnlBatch *b, rtnl_reply_fn fn, void *userdata) {
        uint8_t buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
        bool answered[RTNL_BATCH_MAX] = {};
        unsigned left = b->n;

        while (left > 0) {
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                ssize_t n = recvmsg(rt->fd, &mh, 0);
                size_t len;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (mh.msg_flags & MSG_TRUNC)
                        return -EMSGSIZE;
                len = (size_t) n;
                NLMSG_FOREACH_WHOLE(nlh, buf, len) {
                        uint32_t i = nlh->nlmsg_seq - b->first_seq; /* wraps: no match */

                        if (i < b->n && !answered[i]) {
                                if (nlh->nlmsg_type == NLMSG_ERROR) {
                                        const struct nlmsgerr *e = NLMSG_DATA(nlh);

                                        if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof e->error))
                                                return -EBADMSG;
                                        b->error[i] = e->error > 0 ? -EIO : e->error;
                                        answered[i] = true;
                                        left--;
                                } else if (fn) {
                                        int r = fn(nlh, userdata);
                                        if (r < 0 && b->error[i] == 0)
                                                b->error[i] = r;
                                }
                        }
                }
        }
        return 0;
}

int rtnl_batch_first_error(const RtnlBatch *b) {
        for (unsigned i = 0; i < b->n; i++)
                if (b->error[i] < 0)
                        return (int) i;
        return -1;
}
