/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * mcastd's rate limits as an administrator writes them, NAME=PER_SEC[/BURST]: mcastd's
 * --rate-limit and patchpaneld's --mcast-rate-limit (which patchpaneld hands on to the
 * mcastd it starts) read them with the same function, so they cannot differ.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errbuf.h"
#include "options.h"

#define RATE_LIMIT_MAX 1000000u

/* The protocols, in the order of mcastd's McastProto and of ipc.proto's McastProtocol
 * (after its UNSPECIFIED). */
#define RATE_LIMIT_PROTOCOLS { "mdns", "ssdp", "broadcast" }
#define RATE_LIMIT_N_PROTOCOLS 3u

typedef struct RateLimit {
        uint32_t per_sec; /* 0: no limit */
        uint32_t burst;   /* at least 1 unless per_sec is 0 */
} RateLimit;

/* What the options gave, by protocol; one not set keeps the forwarder's default. */
typedef struct RateLimits {
        RateLimit rate[RATE_LIMIT_N_PROTOCOLS];
        bool set[RATE_LIMIT_N_PROTOCOLS];
} RateLimits;

/*
 * rate_limit_parse() - read NAME=PER_SEC[/BURST] (a burst left out is PER_SEC).
 * @ret_protocol: the index of NAME in RATE_LIMIT_PROTOCOLS
 * Return: 0, or -EINVAL with the reason in @err.
 */
int rate_limit_parse(const char *arg, size_t *ret_protocol, RateLimit *ret, ErrBuf *err);

/* An option's parser (options.h): rate_limit_parse() into the RateLimits at o->data; a
 * protocol given again takes the later value. */
int rate_limit_option_parse(const Option *o, const char *arg, ErrBuf *err);

/* Whether @r is one rate_limit_parse() could have returned. */
int rate_limit_check(RateLimit r, ErrBuf *err);
