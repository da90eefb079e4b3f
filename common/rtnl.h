/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Raw rtnetlink, without libnl: for code that must not pull libnl's headers in. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* The message at @p, if the @left bytes there hold a whole one; else NULL. */
static inline const struct nlmsghdr *nlmsg_whole(const void *p, size_t left) {
        const struct nlmsghdr *nlh = p;

        if (left < sizeof *nlh || nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > left)
                return NULL;
        return nlh;
}

/* The whole message after @nlh, @left (the bytes from @nlh on) cut to the bytes from it on. */
static inline const struct nlmsghdr *nlmsg_next_whole(const struct nlmsghdr *nlh, size_t *left) {
        size_t step = NLMSG_ALIGN(nlh->nlmsg_len);

        if (step >= *left) {
                *left = 0;
                return NULL;
        }
        *left -= step;
        return nlmsg_whole((const uint8_t *) nlh + step, *left);
}

/* Each whole message of a datagram of @left bytes at @buf (@left is used up). */
#define NLMSG_FOREACH_WHOLE(nlh, buf, left)                                           \
        for (const struct nlmsghdr *nlh = nlmsg_whole((buf), (left)); nlh;            \
             nlh = nlmsg_next_whole(nlh, &(left)))

/*
 * Raw rtnetlink: several requests in one sendmsg(), their acknowledgements read together and
 * matched by sequence number, each request's own error kept. The kernel runs rtnetlink
 * requests one after another in the sender's context, so a batch costs one system call
 * and one wake-up instead of one round trip per request, and a failed request does not stop
 * the ones after it: the caller says which failure counts (usually the first).
 */
typedef struct Rtnl {
        int fd;
        uint32_t seq;
} Rtnl;

#define RTNL_NULL ((Rtnl) { .fd = -EBADF })
#define RTNL_BATCH_MAX 32u

typedef struct RtnlBatch {
        uint8_t buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
        size_t len;
        unsigned n;
        uint32_t first_seq;
        bool overflow;            /* a message did not fit: the batch must not be sent */
        int error[RTNL_BATCH_MAX]; /* each request's answer: 0 or a negative errno */
} RtnlBatch;

/*
 * rtnl_open() - a raw NETLINK_ROUTE socket in the calling thread's netns, errors carrying
 * only the failed request's header (NETLINK_CAP_ACK).
 * @ret: the socket
 *
 * Return: 0 or a negative errno.
 */
int rtnl_open(Rtnl *ret);
/* Close it; returns RTNL_NULL. */
Rtnl rtnl_close(Rtnl *r);

/*
 * rtnl_batch_put() - start the next request of a batch.
 * @b: the batch
 * @rt: the socket it goes to (its sequence numbers)
 * @type: RTM_*
 * @flags: NLM_F_* besides NLM_F_REQUEST and NLM_F_ACK, which every request carries
 * @hdr: the family header (struct ifinfomsg, ifaddrmsg, rtmsg)
 * @hdr_len: its size
 *
 * Return: the message, for rtnl_put_attr(); NULL (and the batch marked overflowed) if it
 * does not fit.
 */
struct nlmsghdr *rtnl_batch_put(RtnlBatch *b, Rtnl *rt, uint16_t type, uint16_t flags,
                                const void *hdr, size_t hdr_len);
/* Append an attribute to the last message of @b; on overflow the batch is marked. */
void rtnl_put_attr(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type, const void *data,
                   size_t len);
void rtnl_put_u32(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type, uint32_t v);
void rtnl_put_str(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type, const char *s);
/* Append bytes with no attribute header (the ifinfomsg that opens a veth's VETH_INFO_PEER). */
void rtnl_put_raw(RtnlBatch *b, struct nlmsghdr *nlh, const void *data, size_t len);
/* Open a nested attribute; close it with rtnl_nest_end(). NULL on overflow. */
struct nlattr *rtnl_nest_start(RtnlBatch *b, struct nlmsghdr *nlh, uint16_t type);
void rtnl_nest_end(struct nlmsghdr *nlh, struct nlattr *nest);

/*
 * rtnl_batch_send() - every request of @b in one sendmsg().
 * Return: 0, -ENOBUFS if the batch overflowed while it was built, or a negative errno.
 */
int rtnl_batch_send(Rtnl *rt, RtnlBatch *b);

typedef int (*rtnl_reply_fn)(const struct nlmsghdr *nlh, void *userdata);

/*
 * rtnl_batch_wait() - read until every request of @b is acknowledged.
 * @rt: the socket @b went to
 * @b: the batch; @b->error[i] is set to the answer to its request i
 * @fn: called with anything else answering the batch (an NLM_F_ECHO), or NULL
 * @userdata: for @fn
 *
 * Messages answering earlier requests on the socket are skipped.
 *
 * Return: 0 once all are answered (whatever their answers), or a negative errno if the
 * socket failed.
 */
int rtnl_batch_wait(Rtnl *rt, RtnlBatch *b, rtnl_reply_fn fn, void *userdata);
/* The first request of @b that failed, or -1 if none did. */
int rtnl_batch_first_error(const RtnlBatch *b);
