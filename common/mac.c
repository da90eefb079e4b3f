/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mac.h"
#include "macro.h"

static const uint8_t stable_prefix[5] = { 0x42, 0x37, 0x05, 0x13, 0x17 };

/* Open-addressing hash set of the addresses in use, keyed by the 48-bit value (never 0:
 * random addresses always carry the locally-administered bit). */
struct MacGenerator {
        MacRandFn rand_fn;
        void *userdata;
        uint64_t *slots;
        size_t n_slots; /* power of two */
        size_t n_used;
};

static uint64_t mac_key(const MacAddr *m) {
        uint64_t k = 0;

        for (size_t i = 0; i < MAC_LEN; i++)
                k = (k << 8) | m->b[i];
        return k;
}

static size_t mac_hash(uint64_t k, size_t mask) {
        k ^= k >> 33;
        k *= UINT64_C(0xff51afd7ed558ccd);
        k ^= k >> 33;
        return (size_t) k & mask;
}

static int default_rand(void *buf, size_t len, void *userdata) {
        (void) userdata;
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

MacGenerator *mac_generator_new(MacRandFn rand_fn, void *userdata) {
        MacGenerator *g = calloc(1, sizeof *g);

        if (!g)
                return NULL;
        g->rand_fn = rand_fn ?: default_rand;
        g->userdata = userdata;
        g->n_slots = 64;
        g->slots = calloc(g->n_slots, sizeof(uint64_t));
        if (!g->slots) {
                free(g);
                return NULL;
        }
        return g;
}

MacGenerator *mac_generator_free(MacGenerator *g) {
        if (g) {
                free(g->slots);
                free(g);
        }
        return NULL;
}

static bool set_contains(const MacGenerator *g, uint64_t k) {
        size_t mask = g->n_slots - 1;

        for (size_t i = mac_hash(k, mask);; i = (i + 1) & mask) {
                if (g->slots[i] == 0)
                        return false;
                if (g->slots[i] == k)
                        return true;
        }
}

static void set_insert_slot(uint64_t *slots, size_t n_slots, uint64_t k) {
        size_t mask = n_slots - 1;
        size_t i = mac_hash(k, mask);

        while (slots[i] != 0)
                i = (i + 1) & mask;
        slots[i] = k;
}

static int set_insert(MacGenerator *g, uint64_t k) {
        if ((g->n_used + 1) * 2 > g->n_slots) {
                size_t n = g->n_slots * 2;
                uint64_t *s = calloc(n, sizeof(uint64_t));

                if (!s)
                        return -ENOMEM;
                for (size_t i = 0; i < g->n_slots; i++)
                        if (g->slots[i] != 0)
                                set_insert_slot(s, n, g->slots[i]);
                free(g->slots);
                g->slots = s;
                g->n_slots = n;
        }
        set_insert_slot(g->slots, g->n_slots, k);
        g->n_used++;
        return 0;
}

static void set_remove(MacGenerator *g, uint64_t k) {
        size_t mask = g->n_slots - 1;
        size_t i = mac_hash(k, mask);

        /* 0 marks an empty slot; it is never an address we handed out. */
        if (k == 0)
                return;

        while (g->slots[i] != k) {
                if (g->slots[i] == 0)
                        return;
                i = (i + 1) & mask;
        }
        /* Backward-shift deletion keeps every probe chain unbroken. */
        for (size_t j = (i + 1) & mask; g->slots[j] != 0; j = (j + 1) & mask) {
                size_t home = mac_hash(g->slots[j], mask);
                /* Move slots[j] into the hole at i unless its home lies in (i, j]. */
                bool in_between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
                if (!in_between) {
                        g->slots[i] = g->slots[j];
                        i = j;
                }
        }
        g->slots[i] = 0;
        g->n_used--;
}

int mac_generator_random(MacGenerator *g, MacAddr *ret) {
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                MacAddr m;
                int r = g->rand_fn(m.b, sizeof m.b, g->userdata);
                if (r < 0)
                        return r;
                m.b[0] = (uint8_t) ((m.b[0] | 0x02) & 0xfe);
                if (mac_is_stable(&m))
                        continue;
                uint64_t k = mac_key(&m);
                if (set_contains(g, k))
                        continue;
                r = set_insert(g, k);
                if (r < 0)
                        return r;
                *ret = m;
                return 0;
        }
        return -EAGAIN;
}

void mac_generator_release(MacGenerator *g, const MacAddr *m) {
        set_remove(g, mac_key(m));
}

size_t mac_generator_n_in_use(const MacGenerator *g) {
        return g->n_used;
}

MacAddr mac_stable(uint8_t id) {
        MacAddr m;

        memcpy(m.b, stable_prefix, sizeof stable_prefix);
        m.b[5] = id;
        return m;
}

bool mac_is_stable(const MacAddr *m) {
        return memcmp(m->b, stable_prefix, sizeof stable_prefix) == 0;
}

bool mac_is_unicast(const MacAddr *m) {
        return (m->b[0] & 0x01) == 0;
}

bool mac_is_local(const MacAddr *m) {
        return (m->b[0] & 0x02) != 0;
}

bool mac_is_zero(const MacAddr *m) {
        static const MacAddr zero;
        return memcmp(m, &zero, sizeof zero) == 0;
}

const char *mac_to_string(const MacAddr *m, char buf[static MAC_STRLEN]) {
        snprintf(buf, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2],
                 m->b[3], m->b[4], m->b[5]);
        return buf;
}
