/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * mcastd's rate limits as an administrator writes them, NAME=PER_SEC[/BURST]: mcastd's
 * --rate-limit and patchpaneld's --mcast-rate-limit (which patchpaneld hands on to the
 * mcastd it starts) read them with the same function, so they cannot differ.
 */

#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"

#define RATE_LIMIT_MAX 1000000u

/* The protocols, in the order of mcastd's McastProto and of ipc.proto's McastProtocol
 * (after its UNSPECIFIED). */
#define RATE_LIMIT_PROTOCOLS { "mdns", "ssdp", "broadcast" }
#define RATE_LIMIT_N_PROTOCOLS 3u

typedef struct RateLimit {
        uint32_t per_sec; /* 0: no limit */
        uint32_t burst;   /* at least 1 unless per_sec is 0 */
} RateLimit;

/*
 * rate_limit_parse() - read NAME=PER_SEC[/BURST] (a burst left out is PER_SEC).
 * @ret_protocol: the index of NAME in RATE_LIMIT_PROTOCOLS
 * Return: 0, or -EINVAL with the reason in @err.
 */
int rate_limit_parse(const char *arg, size_t *ret_protocol, RateLimit *ret, ErrBuf *err);

/* Whether @r is one rate_limit_parse() could have returned. */
int rate_limit_check(RateLimit r, ErrBuf *err);
