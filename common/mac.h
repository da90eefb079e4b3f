/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * MAC addresses for guest links. Random ones are locally administered unicast, never the
 * stable prefix, and never handed out twice while in use; stable ones are
 * 42:37:05:13:17:<id>, so a guest sees the same address across boots.
 */

#include <stdbool.h>
#include <stdint.h>

#define MAC_LEN 6
#define MAC_STRLEN 18

typedef struct MacAddr {
        uint8_t b[MAC_LEN];
} MacAddr;

typedef struct MacGenerator MacGenerator;

/* rand_fn fills a buffer with random bytes and returns 0 or a negative errno; NULL means
 * getrandom(). Tests pass their own to force collisions. */
typedef int (*MacRandFn)(void *buf, size_t len, void *userdata);

MacGenerator *mac_generator_new(MacRandFn rand_fn, void *userdata);
MacGenerator *mac_generator_free(MacGenerator *g);
/* A fresh random address, remembered until mac_generator_release(). */
int mac_generator_random(MacGenerator *g, MacAddr *ret);
void mac_generator_release(MacGenerator *g, const MacAddr *m);
size_t mac_generator_n_in_use(const MacGenerator *g);

MacAddr mac_stable(uint8_t id);
bool mac_is_stable(const MacAddr *m);
bool mac_is_unicast(const MacAddr *m);
bool mac_is_local(const MacAddr *m);
bool mac_is_zero(const MacAddr *m);
const char *mac_to_string(const MacAddr *m, char buf[static MAC_STRLEN]);
