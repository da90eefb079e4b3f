/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/mac.h: random and stable guest MAC addresses. Most tests pass their own MacRandFn,
 * which hands out chosen bytes, to force collisions and to look into the set of addresses in
 * use: an address is in use exactly when forcing it makes mac_generator_random() give up
 * with -EAGAIN.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mac.h"
#include "macro.h"

/* Hands out macs[0], macs[1], ...; repeats the last one when the list runs out. */
typedef struct Script {
        const MacAddr *macs;
        size_t n;
        size_t pos;
        unsigned calls;
        int error; /* returned instead of bytes if non-zero */
} Script;

static int script_rand(void *buf, size_t len, void *userdata) {
        Script *s = userdata;

        assert_int_equal(len, MAC_LEN);
        s->calls++;
        if (s->error != 0)
                return s->error;
        memcpy(buf, s->macs[s->pos < s->n ? s->pos : s->n - 1].b, MAC_LEN);
        s->pos++;
        return 0;
}

/* Always hands out `mac`: what the tests set before each call. */
typedef struct Forced {
        MacAddr mac;
        unsigned calls;
} Forced;

static int forced_rand(void *buf, size_t len, void *userdata) {
        Forced *f = userdata;

        assert_int_equal(len, MAC_LEN);
        f->calls++;
        memcpy(buf, f->mac.b, MAC_LEN);
        return 0;
}

/* Each test's generator, freed by teardown() even when the test fails. setup_forced()
 * creates it with forced_rand(); with setup() the test creates it. */
typedef struct Fixture {
        Forced f;
        MacGenerator *g;
} Fixture;

static int setup(void **state) {
        Fixture *fx = calloc(1, sizeof *fx);

        if (!fx)
                return -1;
        *state = fx;
        return 0;
}

static int setup_forced(void **state) {
        Fixture *fx;

        if (setup(state) < 0)
                return -1;
        fx = *state;
        fx->g = mac_generator_new(forced_rand, &fx->f);
        return fx->g ? 0 : -1;
}

static int teardown(void **state) {
        Fixture *fx = *state;

        mac_generator_free(fx->g);
        free(fx);
        return 0;
}

#define GEN_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define FORCED_TEST(t) cmocka_unit_test_setup_teardown(t, setup_forced, teardown)

#define MAC(m0, m1, m2, m3, m4, m5) ((MacAddr) { .b = { m0, m1, m2, m3, m4, m5 } })

/* A distinct locally administered unicast address per i. */
static MacAddr mac_of(uint32_t i) {
        return MAC(0x02, 0x00, (uint8_t) (i >> 24), (uint8_t) (i >> 16), (uint8_t) (i >> 8),
                   (uint8_t) i);
}

static void assert_mac_equal(const MacAddr *a, const MacAddr *b) {
        char x[MAC_STRLEN], y[MAC_STRLEN];

        assert_string_equal(mac_to_string(a, x), mac_to_string(b, y));
}

/* Force m through the generator: 0 if it was free (it is in use afterwards), -EAGAIN if it
 * was already in use. */
static int force(MacGenerator *g, Forced *f, const MacAddr *m) {
        MacAddr got;
        int r;

        f->mac = *m;
        r = mac_generator_random(g, &got);
        if (r == 0)
                assert_mac_equal(&got, m);
        return r;
}

/* Default generator: getrandom() */

static void test_random_unicast_local(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g = mac_generator_new(NULL, NULL);
        MacAddr m;

        assert_non_null(g);
        for (int i = 0; i < 256; i++) {
                assert_int_equal(mac_generator_random(g, &m), 0);
                assert_true(mac_is_unicast(&m));
                assert_true(mac_is_local(&m));
                assert_false(mac_is_stable(&m));
                assert_false(mac_is_zero(&m));
        }
}

static void test_random_unique(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g = mac_generator_new(NULL, NULL);
        MacAddr m[512];

        assert_non_null(g);
        for (size_t i = 0; i < ELEMENTSOF(m); i++)
                assert_int_equal(mac_generator_random(g, &m[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(m); i++)
                for (size_t j = i + 1; j < ELEMENTSOF(m); j++)
                        assert_memory_not_equal(&m[i], &m[j], sizeof m[i]);
        assert_int_equal(mac_generator_n_in_use(g), ELEMENTSOF(m));
}

static void test_free_null(void **state) {
        (void) state;
        assert_null(mac_generator_free(NULL));
}

/* Bits forced by the generator */

static void test_random_clears_multicast_bit(void **state) {
        Fixture *fx = *state;
        const MacAddr in = MAC(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
        Script s = { .macs = &in, .n = 1 };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &MAC(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff));
}

static void test_random_sets_local_bit(void **state) {
        Fixture *fx = *state;
        const MacAddr in = MAC(0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
        Script s = { .macs = &in, .n = 1 };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        /* All-zero bytes do not give the all-zero address. */
        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x00));
        assert_false(mac_is_zero(&m));
}

static void test_random_keeps_other_bits(void **state) {
        Fixture *fx = *state;
        const MacAddr in = MAC(0xa8, 0x12, 0x34, 0x56, 0x78, 0x9a);
        Script s = { .macs = &in, .n = 1 };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &MAC(0xaa, 0x12, 0x34, 0x56, 0x78, 0x9a));
}

/* Retries */

static void test_random_same_bytes_eagain(void **state) {
        Fixture *fx = *state;
        const MacAddr in = MAC(0x02, 0x11, 0x22, 0x33, 0x44, 0x55);
        Script s = { .macs = &in, .n = 1 };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m, untouched = MAC(1, 2, 3, 4, 5, 6);

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_int_equal(s.calls, 1);
        m = untouched;
        assert_int_equal(mac_generator_random(g, &m), -EAGAIN);
        assert_true(s.calls > 2); /* it retried before giving up */
        assert_mac_equal(&m, &untouched);
        assert_int_equal(mac_generator_n_in_use(g), 1);
}

static void test_random_stable_prefix_only_eagain(void **state) {
        Fixture *fx = *state;
        const MacAddr in = MAC(0x42, 0x37, 0x05, 0x13, 0x17, 0x01);
        Script s = { .macs = &in, .n = 1 };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), -EAGAIN);
        assert_true(s.calls > 1);
        assert_int_equal(mac_generator_n_in_use(g), 0);
}

static void test_random_skips_stable_prefix(void **state) {
        Fixture *fx = *state;
        const MacAddr in[] = {
                MAC(0x42, 0x37, 0x05, 0x13, 0x17, 0x00),
                MAC(0x42, 0x37, 0x05, 0x13, 0x17, 0xff),
                MAC(0x06, 0x01, 0x02, 0x03, 0x04, 0x05),
        };
        Script s = { .macs = in, .n = ELEMENTSOF(in) };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in[2]);
        assert_int_equal(s.calls, 3);
}

static void test_random_skips_stable_prefix_after_masking(void **state) {
        Fixture *fx = *state;
        /* 0x43 is multicast; with the bit cleared it is 0x42, the stable prefix. */
        const MacAddr in[] = {
                MAC(0x43, 0x37, 0x05, 0x13, 0x17, 0x09),
                MAC(0x06, 0x01, 0x02, 0x03, 0x04, 0x05),
        };
        Script s = { .macs = in, .n = ELEMENTSOF(in) };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in[1]);
        assert_false(mac_is_stable(&m));
}

static void test_random_near_stable_prefix_allowed(void **state) {
        Fixture *fx = *state;
        /* Differs from the stable prefix in its fifth byte only. */
        const MacAddr in = MAC(0x42, 0x37, 0x05, 0x13, 0x18, 0x01);
        Script s = { .macs = &in, .n = 1 };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in);
}

static void test_random_sequence_skips_duplicates(void **state) {
        Fixture *fx = *state;
        const MacAddr in[] = {
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x01),
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x01),
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x01),
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x02),
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x01),
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x02),
                MAC(0x02, 0x00, 0x00, 0x00, 0x00, 0x03),
        };
        Script s = { .macs = in, .n = ELEMENTSOF(in) };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in[0]);
        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in[3]);
        assert_int_equal(s.calls, 4);
        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in[6]);
        assert_int_equal(s.calls, 7);
        assert_int_equal(mac_generator_n_in_use(g), 3);
}

static void test_random_duplicate_after_masking(void **state) {
        Fixture *fx = *state;
        /* 0x03 and 0x02 are the same address once the multicast bit is cleared. */
        const MacAddr in[] = {
                MAC(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee),
                MAC(0x03, 0xaa, 0xbb, 0xcc, 0xdd, 0xee),
                MAC(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xef),
        };
        Script s = { .macs = in, .n = ELEMENTSOF(in) };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m;

        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_int_equal(mac_generator_random(g, &m), 0);
        assert_mac_equal(&m, &in[2]);
}

static void test_random_rand_error(void **state) {
        Fixture *fx = *state;
        const MacAddr in = MAC(0x02, 0, 0, 0, 0, 1);
        Script s = { .macs = &in, .n = 1, .error = -EIO };
        MacGenerator *g = fx->g = mac_generator_new(script_rand, &s);
        MacAddr m, untouched = MAC(1, 2, 3, 4, 5, 6);

        m = untouched;
        assert_int_equal(mac_generator_random(g, &m), -EIO);
        assert_int_equal(s.calls, 1);
        assert_mac_equal(&m, &untouched);
        assert_int_equal(mac_generator_n_in_use(g), 0);
}

/* Release */

static void test_release_makes_reusable(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const MacAddr a = MAC(0x02, 0x12, 0x34, 0x56, 0x78, 0x9a);

        assert_int_equal(force(g, f, &a), 0);
        assert_int_equal(force(g, f, &a), -EAGAIN);
        mac_generator_release(g, &a);
        assert_int_equal(mac_generator_n_in_use(g), 0);
        assert_int_equal(force(g, f, &a), 0);
        assert_int_equal(mac_generator_n_in_use(g), 1);
}

static void test_release_twice(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const MacAddr a = mac_of(1), b = mac_of(2);

        assert_int_equal(force(g, f, &a), 0);
        assert_int_equal(force(g, f, &b), 0);
        mac_generator_release(g, &a);
        mac_generator_release(g, &a);
        assert_int_equal(mac_generator_n_in_use(g), 1);
        assert_int_equal(force(g, f, &b), -EAGAIN);
}

static void test_release_unknown(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const MacAddr a = mac_of(1), other = mac_of(2);

        assert_int_equal(force(g, f, &a), 0);
        mac_generator_release(g, &other);
        assert_int_equal(mac_generator_n_in_use(g), 1);
        assert_int_equal(force(g, f, &a), -EAGAIN);
}

static void test_release_stable_not_in_set(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const MacAddr a = mac_of(1), stable = mac_stable(3);

        assert_int_equal(force(g, f, &a), 0);
        mac_generator_release(g, &stable);
        assert_int_equal(mac_generator_n_in_use(g), 1);
}

static void test_release_zero_on_empty(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const MacAddr zero = { 0 }, a = mac_of(1);

        /* The all-zero address is never handed out, so releasing it changes nothing (a
         * never-filled MacAddr field released on a cleanup path must not corrupt the
         * count). */
        mac_generator_release(g, &zero);
        assert_int_equal(mac_generator_n_in_use(g), 0);
        assert_int_equal(force(g, f, &a), 0);
        assert_int_equal(mac_generator_n_in_use(g), 1);
}

static void test_release_zero_with_entries(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const MacAddr zero = { 0 };

        for (uint32_t i = 0; i < 10; i++) {
                MacAddr m = mac_of(i);
                assert_int_equal(force(g, f, &m), 0);
        }
        mac_generator_release(g, &zero);
        assert_int_equal(mac_generator_n_in_use(g), 10);
        for (uint32_t i = 0; i < 10; i++) {
                MacAddr m = mac_of(i);
                assert_int_equal(force(g, f, &m), -EAGAIN);
        }
}

/* The hash set: growth past the initial 64 slots and backward-shift deletion */

static void test_many_insert_release_every_other(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const uint32_t n = 1000;

        for (uint32_t i = 0; i < n; i++) {
                MacAddr m = mac_of(i);
                assert_int_equal(force(g, f, &m), 0);
                assert_int_equal(mac_generator_n_in_use(g), i + 1);
        }
        for (uint32_t i = 0; i < n; i += 2) {
                MacAddr m = mac_of(i);
                mac_generator_release(g, &m);
        }
        assert_int_equal(mac_generator_n_in_use(g), n / 2);

        /* Every odd one is still found... */
        for (uint32_t i = 1; i < n; i += 2) {
                MacAddr m = mac_of(i);
                assert_int_equal(force(g, f, &m), -EAGAIN);
        }
        assert_int_equal(mac_generator_n_in_use(g), n / 2);

        /* ...and every even one can be handed out again. */
        for (uint32_t i = 0; i < n; i += 2) {
                MacAddr m = mac_of(i);
                assert_int_equal(force(g, f, &m), 0);
        }
        assert_int_equal(mac_generator_n_in_use(g), n);
}

static void test_many_release_all(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        const uint32_t n = 1000;

        for (uint32_t i = 0; i < n; i++) {
                MacAddr m = mac_of(i * 7919u);
                assert_int_equal(force(g, f, &m), 0);
        }
        /* Release in a different order from the inserts. */
        for (uint32_t k = 0; k < n; k++) {
                uint32_t i = (k * 389u) % n; /* 389 is prime to 1000: a permutation */
                MacAddr m = mac_of(i * 7919u);
                mac_generator_release(g, &m);
                assert_int_equal(mac_generator_n_in_use(g), n - k - 1);
        }
        for (uint32_t i = 0; i < n; i++) {
                MacAddr m = mac_of(i * 7919u);
                assert_int_equal(force(g, f, &m), 0);
        }
        assert_int_equal(mac_generator_n_in_use(g), n);
}

/* A copy of the set's hash, to choose keys that share a home slot. Should the hash change,
 * the tests below still check the set, only less pointedly. */
static size_t home_slot(const MacAddr *m, size_t mask) {
        uint64_t k = 0;

        for (size_t i = 0; i < MAC_LEN; i++)
                k = (k << 8) | m->b[i];
        k ^= k >> 33;
        k *= UINT64_C(0xff51afd7ed558ccd);
        k ^= k >> 33;
        return (size_t) k & mask;
}

/* Up to n addresses whose home slot in a 64-slot table is `home`. */
static size_t find_colliding(size_t home, MacAddr *ret, size_t n) {
        size_t found = 0;

        for (uint32_t i = 0; found < n && i < 1000000; i++) {
                MacAddr m = mac_of(i);
                if (home_slot(&m, 63) == home)
                        ret[found++] = m;
        }
        return found;
}

static void assert_in_use(MacGenerator *g, Forced *f, const MacAddr *m, size_t n, bool in_use) {
        for (size_t i = 0; i < n; i++) {
                if (in_use) {
                        assert_int_equal(force(g, f, &m[i]), -EAGAIN);
                } else {
                        assert_int_equal(force(g, f, &m[i]), 0);
                        mac_generator_release(g, &m[i]);
                }
        }
}

static void test_collisions_release_head(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        MacAddr m[8];

        assert_int_equal(find_colliding(10, m, ELEMENTSOF(m)), ELEMENTSOF(m));
        for (size_t i = 0; i < ELEMENTSOF(m); i++)
                assert_int_equal(force(g, f, &m[i]), 0);
        /* The chain's head goes; the rest must move up and stay reachable. */
        mac_generator_release(g, &m[0]);
        assert_int_equal(mac_generator_n_in_use(g), 7);
        assert_in_use(g, f, m + 1, 7, true);
        assert_in_use(g, f, m, 1, false);
}

static void test_collisions_release_middle(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        MacAddr m[8];

        assert_int_equal(find_colliding(20, m, ELEMENTSOF(m)), ELEMENTSOF(m));
        for (size_t i = 0; i < ELEMENTSOF(m); i++)
                assert_int_equal(force(g, f, &m[i]), 0);
        mac_generator_release(g, &m[3]);
        mac_generator_release(g, &m[5]);
        assert_int_equal(mac_generator_n_in_use(g), 6);
        assert_in_use(g, f, m, 3, true);
        assert_in_use(g, f, m + 4, 1, true);
        assert_in_use(g, f, m + 6, 2, true);
        assert_in_use(g, f, m + 3, 1, false);
        assert_in_use(g, f, m + 5, 1, false);
}

static void test_collisions_wrap_around(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        MacAddr end[4], start[3];

        /* A chain from slot 62 wraps to slots 0 and 1, ahead of keys whose home is 0: the
         * deletion has to handle a hole after the end of the table. */
        assert_int_equal(find_colliding(62, end, ELEMENTSOF(end)), ELEMENTSOF(end));
        assert_int_equal(find_colliding(0, start, ELEMENTSOF(start)), ELEMENTSOF(start));
        for (size_t i = 0; i < ELEMENTSOF(end); i++)
                assert_int_equal(force(g, f, &end[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(start); i++)
                assert_int_equal(force(g, f, &start[i]), 0);

        mac_generator_release(g, &end[1]);
        assert_in_use(g, f, end, 1, true);
        assert_in_use(g, f, end + 2, 2, true);
        assert_in_use(g, f, start, ELEMENTSOF(start), true);

        mac_generator_release(g, &end[0]);
        mac_generator_release(g, &start[0]);
        assert_int_equal(mac_generator_n_in_use(g), 4);
        assert_in_use(g, f, end + 2, 2, true);
        assert_in_use(g, f, start + 1, 2, true);
        assert_in_use(g, f, end, 2, false);
        assert_in_use(g, f, start, 1, false);
}

static void test_collisions_hole_at_last_slot(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        MacAddr last[1], first[2];

        /* Slots 63, 0 and 1, the last two at home in slot 0. Emptying slot 63 must leave
         * them where they are: moving one back across the end of the table would put it
         * before its home, out of reach of a lookup. */
        assert_int_equal(find_colliding(63, last, ELEMENTSOF(last)), ELEMENTSOF(last));
        assert_int_equal(find_colliding(0, first, ELEMENTSOF(first)), ELEMENTSOF(first));
        assert_int_equal(force(g, f, &last[0]), 0);
        for (size_t i = 0; i < ELEMENTSOF(first); i++)
                assert_int_equal(force(g, f, &first[i]), 0);

        mac_generator_release(g, &last[0]);
        assert_int_equal(mac_generator_n_in_use(g), 2);
        assert_in_use(g, f, first, ELEMENTSOF(first), true);
        assert_in_use(g, f, last, 1, false);
}

static void test_against_model(void **state) {
        Fixture *fx = *state;
        MacGenerator *g = fx->g;
        Forced *f = &fx->f;
        bool in_use[300] = { false };
        size_t n = 0;
        uint32_t x = 12345;

        /* Random inserts, releases and lookups, compared with a plain array. */
        for (int op = 0; op < 20000; op++) {
                x = x * 1103515245u + 12345u;
                uint32_t i = (x >> 8) % ELEMENTSOF(in_use);
                MacAddr m = mac_of(i * 104729u);

                if (!in_use[i]) {
                        assert_int_equal(force(g, f, &m), 0);
                        in_use[i] = true;
                        n++;
                } else if ((x >> 24) & 1) {
                        mac_generator_release(g, &m);
                        in_use[i] = false;
                        n--;
                } else
                        assert_int_equal(force(g, f, &m), -EAGAIN);
                assert_int_equal(mac_generator_n_in_use(g), n);
        }
        for (uint32_t i = 0; i < ELEMENTSOF(in_use); i++) {
                MacAddr m = mac_of(i * 104729u);
                int r = force(g, f, &m);
                assert_int_equal(r, in_use[i] ? -EAGAIN : 0);
        }
}

/* Stable addresses and predicates */

static void test_stable(void **state) {
        MacAddr m = mac_stable(7);

        (void) state;
        assert_mac_equal(&m, &MAC(0x42, 0x37, 0x05, 0x13, 0x17, 0x07));
        assert_true(mac_is_stable(&m));
        assert_true(mac_is_unicast(&m));
        assert_true(mac_is_local(&m));
}

static void test_stable_0_and_255(void **state) {
        MacAddr a = mac_stable(0), b = mac_stable(255);

        (void) state;
        assert_mac_equal(&a, &MAC(0x42, 0x37, 0x05, 0x13, 0x17, 0x00));
        assert_mac_equal(&b, &MAC(0x42, 0x37, 0x05, 0x13, 0x17, 0xff));
        assert_true(mac_is_stable(&a));
        assert_true(mac_is_stable(&b));
}

static void test_is_stable_other_prefix(void **state) {
        (void) state;
        assert_false(mac_is_stable(&MAC(0x42, 0x37, 0x05, 0x13, 0x16, 0x07)));
        assert_false(mac_is_stable(&MAC(0x02, 0x37, 0x05, 0x13, 0x17, 0x07)));
}

static void test_predicates(void **state) {
        (void) state;
        assert_false(mac_is_unicast(&MAC(0x01, 0, 0, 0, 0, 1)));
        assert_false(mac_is_unicast(&MAC(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)));
        assert_true(mac_is_unicast(&MAC(0x00, 0x11, 0x22, 0x33, 0x44, 0x55)));
        assert_false(mac_is_local(&MAC(0x00, 0x11, 0x22, 0x33, 0x44, 0x55)));
        assert_true(mac_is_local(&MAC(0x02, 0, 0, 0, 0, 0)));
        assert_true(mac_is_zero(&MAC(0, 0, 0, 0, 0, 0)));
        assert_false(mac_is_zero(&MAC(0, 0, 0, 0, 0, 1)));
}

static void test_to_string(void **state) {
        char buf[MAC_STRLEN];
        MacAddr m = MAC(0x02, 0xab, 0x0c, 0xd0, 0x00, 0xff);

        (void) state;
        assert_ptr_equal(mac_to_string(&m, buf), buf);
        assert_string_equal(buf, "02:ab:0c:d0:00:ff");
}

static void test_to_string_stable(void **state) {
        char buf[MAC_STRLEN];
        MacAddr m = mac_stable(0x2a);

        (void) state;
        assert_string_equal(mac_to_string(&m, buf), "42:37:05:13:17:2a");
}

static void test_to_string_fills_buffer(void **state) {
        char buf[MAC_STRLEN + 1];
        MacAddr m = MAC(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

        (void) state;
        memset(buf, 'X', sizeof buf);
        mac_to_string(&m, buf);
        assert_int_equal(strlen(buf), MAC_STRLEN - 1);
        assert_int_equal(buf[MAC_STRLEN], 'X'); /* nothing written past MAC_STRLEN */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                GEN_TEST(test_random_unicast_local),
                GEN_TEST(test_random_unique),
                cmocka_unit_test(test_free_null),
                GEN_TEST(test_random_clears_multicast_bit),
                GEN_TEST(test_random_sets_local_bit),
                GEN_TEST(test_random_keeps_other_bits),
                GEN_TEST(test_random_same_bytes_eagain),
                GEN_TEST(test_random_stable_prefix_only_eagain),
                GEN_TEST(test_random_skips_stable_prefix),
                GEN_TEST(test_random_skips_stable_prefix_after_masking),
                GEN_TEST(test_random_near_stable_prefix_allowed),
                GEN_TEST(test_random_sequence_skips_duplicates),
                GEN_TEST(test_random_duplicate_after_masking),
                GEN_TEST(test_random_rand_error),
                FORCED_TEST(test_release_makes_reusable),
                FORCED_TEST(test_release_twice),
                FORCED_TEST(test_release_unknown),
                FORCED_TEST(test_release_stable_not_in_set),
                FORCED_TEST(test_release_zero_on_empty),
                FORCED_TEST(test_release_zero_with_entries),
                FORCED_TEST(test_many_insert_release_every_other),
                FORCED_TEST(test_many_release_all),
                FORCED_TEST(test_collisions_release_head),
                FORCED_TEST(test_collisions_release_middle),
                FORCED_TEST(test_collisions_wrap_around),
                FORCED_TEST(test_collisions_hole_at_last_slot),
                FORCED_TEST(test_against_model),
                cmocka_unit_test(test_stable),
                cmocka_unit_test(test_stable_0_and_255),
                cmocka_unit_test(test_is_stable_other_prefix),
                cmocka_unit_test(test_predicates),
                cmocka_unit_test(test_to_string),
                cmocka_unit_test(test_to_string_stable),
                cmocka_unit_test(test_to_string_fills_buffer),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
