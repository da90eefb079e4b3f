/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reading of a set's elements from an nf_tables dump (nft_setelem_msg_parse() in
 * helpers/nft-msg.c), which the counters go through. Input: one netlink message as the
 * kernel would send it (the nlmsghdr's length is set to the input's, so that the whole
 * input is the message).
 *
 * What must hold: the message is read or refused with -EBADMSG; every element seen has a
 * key of at least one byte that lies inside the message.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>

#include "fuzz.h"
#include "nft-msg.h"

typedef struct Bounds {
        const uint8_t *start;
        size_t len;
} Bounds;

static int check_elem(const NftElemSeen *e, void *userdata) {
        const Bounds *b = userdata;

        FUZZ_CHECK(e->key_len > 0);
        FUZZ_CHECK(e->key >= b->start && e->key_len <= b->len &&
                   (size_t) (e->key - b->start) <= b->len - e->key_len);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _Alignas(struct nlmsghdr) uint8_t buf[65536];
        struct nlmsghdr *h = (struct nlmsghdr *) buf;
        Bounds b = { buf, size };
        int r;

        if (size < sizeof *h || size > sizeof buf)
                return 0;
        memcpy(buf, data, size);
        h->nlmsg_len = (uint32_t) size;
        r = nft_setelem_msg_parse(buf, size, check_elem, &b);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        return 0;
}
