/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/source-map.h: uid ranges painted with local traffic sources. Maps are compared
 * range by range with what they must be after each call; the random tests replay a fixed
 * sequence of source_map_set() calls on a brute-force model, one source per uid.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fwmark.h"
#include "macro.h"
#include "source-map.h"

#define CHROME TRAFFIC_SOURCE_CHROME
#define USER TRAFFIC_SOURCE_USER
#define UPDATE TRAFFIC_SOURCE_UPDATE_ENGINE
#define SYSTEM TRAFFIC_SOURCE_SYSTEM
#define HOST_VPN TRAFFIC_SOURCE_HOST_VPN

#define R(a, b, s) ((UidRange) { (a), (b), (s) })

/* The map's ranges, exactly: sorted, merged, nothing else. */
static void assert_map(const SourceMap *m, const UidRange *expected, size_t n) {
        assert_int_equal(m->n, n);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(m->ranges[i].first, expected[i].first);
                assert_int_equal(m->ranges[i].last, expected[i].last);
                assert_int_equal(m->ranges[i].source, expected[i].source);
        }
        assert_int_equal(source_map_validate(m->ranges, m->n), 0);
}

#define ASSERT_MAP(m, ...)                                                      \
        do {                                                                    \
                const UidRange _e_[] = { __VA_ARGS__ };                         \
                assert_map((m), _e_, ELEMENTSOF(_e_));                          \
        } while (0)

static void set_ok(SourceMap *m, uint32_t first, uint32_t last, TrafficSource s) {
        assert_int_equal(source_map_set(m, first, last, s), 0);
}

/* A set that fails must leave the map as it was. */
static void assert_set_fails(SourceMap *m, uint32_t first, uint32_t last, TrafficSource s,
                             int expected) {
        SourceMap before = *m;

        assert_int_equal(source_map_set(m, first, last, s), expected);
        assert_memory_equal(m, &before, sizeof before);
}

/* source_map_set(): painting */

static void test_set_empty_map(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 1000, 1999, CHROME);
        ASSERT_MAP(&m, R(1000, 1999, CHROME));
}

static void test_set_single_uid(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 1000, 1000, USER);
        ASSERT_MAP(&m, R(1000, 1000, USER));
}

static void test_set_uid_0(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 0, 0, USER);
        ASSERT_MAP(&m, R(0, 0, USER));
        assert_int_equal(source_map_lookup(&m, 0), USER);
        assert_int_equal(source_map_lookup(&m, 1), SYSTEM);
}

static void test_set_highest_uid(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, UINT32_MAX - 2, UINT32_MAX - 1, USER);
        ASSERT_MAP(&m, R(UINT32_MAX - 2, UINT32_MAX - 1, USER));
        assert_int_equal(source_map_lookup(&m, UINT32_MAX - 1), USER);
        assert_int_equal(source_map_lookup(&m, UINT32_MAX), SYSTEM);
}

static void test_set_disjoint_after(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 199, CHROME);
        set_ok(&m, 300, 399, USER);
        ASSERT_MAP(&m, R(100, 199, CHROME), R(300, 399, USER));
}

/* Sorted by first uid, whatever the order of the calls. */
static void test_set_disjoint_before(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 300, 399, USER);
        set_ok(&m, 100, 199, CHROME);
        ASSERT_MAP(&m, R(100, 199, CHROME), R(300, 399, USER));
}

static void test_set_disjoint_between(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 500, 599, USER);
        set_ok(&m, 100, 199, CHROME);
        set_ok(&m, 300, 399, UPDATE);
        ASSERT_MAP(&m, R(100, 199, CHROME), R(300, 399, UPDATE), R(500, 599, USER));
}

static void test_set_later_wins_overlap_right(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 150, 250, CHROME);
        ASSERT_MAP(&m, R(100, 149, USER), R(150, 250, CHROME));
}

static void test_set_later_wins_overlap_left(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 50, 150, CHROME);
        ASSERT_MAP(&m, R(50, 150, CHROME), R(151, 200, USER));
}

static void test_set_later_wins_same_range(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 100, 200, CHROME);
        ASSERT_MAP(&m, R(100, 200, CHROME));
}

static void test_set_later_wins_covering(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 50, 250, CHROME);
        ASSERT_MAP(&m, R(50, 250, CHROME));
}

static void test_set_later_wins_same_first(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 100, 150, CHROME);
        ASSERT_MAP(&m, R(100, 150, CHROME), R(151, 200, USER));
}

static void test_set_later_wins_same_last(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 150, 200, CHROME);
        ASSERT_MAP(&m, R(100, 149, USER), R(150, 200, CHROME));
}

static void test_set_split_into_three(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 150, 160, CHROME);
        ASSERT_MAP(&m, R(100, 149, USER), R(150, 160, CHROME), R(161, 200, USER));
}

static void test_set_split_single_uid(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 102, USER);
        set_ok(&m, 101, 101, CHROME);
        ASSERT_MAP(&m, R(100, 100, USER), R(101, 101, CHROME), R(102, 102, USER));
}

static void test_set_split_at_uid_0(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 0, 100, USER);
        set_ok(&m, 0, 0, CHROME);
        ASSERT_MAP(&m, R(0, 0, CHROME), R(1, 100, USER));
}

static void test_set_across_several(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 10, 20, USER);
        set_ok(&m, 30, 40, CHROME);
        set_ok(&m, 50, 60, UPDATE);
        set_ok(&m, 15, 55, HOST_VPN);
        ASSERT_MAP(&m, R(10, 14, USER), R(15, 55, HOST_VPN), R(56, 60, UPDATE));
}

static void test_set_covering_several(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 10, 20, USER);
        set_ok(&m, 30, 40, CHROME);
        set_ok(&m, 50, 60, UPDATE);
        set_ok(&m, 0, 100, HOST_VPN);
        ASSERT_MAP(&m, R(0, 100, HOST_VPN));
}

/* Neighbours of the same source become one range */

static void test_set_merge_right_neighbour(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 149, USER);
        set_ok(&m, 150, 200, USER);
        ASSERT_MAP(&m, R(100, 200, USER));
}

static void test_set_merge_left_neighbour(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 150, 200, USER);
        set_ok(&m, 100, 149, USER);
        ASSERT_MAP(&m, R(100, 200, USER));
}

static void test_set_merge_bridge(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 110, USER);
        set_ok(&m, 120, 130, USER);
        set_ok(&m, 111, 119, USER);
        ASSERT_MAP(&m, R(100, 130, USER));
}

static void test_set_merge_inside_same_source(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 120, 130, USER);
        ASSERT_MAP(&m, R(100, 200, USER));
}

static void test_set_merge_overlap_same_source(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 150, 250, USER);
        ASSERT_MAP(&m, R(100, 250, USER));
}

/* The middle range repainted with its neighbours' source: all three become one. */
static void test_set_merge_after_repaint(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 150, 160, CHROME);
        set_ok(&m, 150, 160, USER);
        ASSERT_MAP(&m, R(100, 200, USER));
}

static void test_set_no_merge_other_source(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 149, USER);
        set_ok(&m, 150, 200, CHROME);
        ASSERT_MAP(&m, R(100, 149, USER), R(150, 200, CHROME));
}

static void test_set_no_merge_gap(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 148, USER);
        set_ok(&m, 150, 200, USER);
        ASSERT_MAP(&m, R(100, 148, USER), R(150, 200, USER));
}

/* SYSTEM is the default: painting it erases */

static void test_set_system_on_empty(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, SYSTEM);
        assert_int_equal(m.n, 0);
}

static void test_set_system_erases_all(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 100, 200, SYSTEM);
        assert_int_equal(m.n, 0);
}

static void test_set_system_erases_middle(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 120, 130, SYSTEM);
        ASSERT_MAP(&m, R(100, 119, USER), R(131, 200, USER));
}

static void test_set_system_erases_edges(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        set_ok(&m, 0, 100, SYSTEM);
        set_ok(&m, 200, 300, SYSTEM);
        ASSERT_MAP(&m, R(101, 199, USER));
}

static void test_set_system_across_several(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 10, 20, USER);
        set_ok(&m, 30, 40, CHROME);
        set_ok(&m, 50, 60, UPDATE);
        set_ok(&m, 15, 55, SYSTEM);
        ASSERT_MAP(&m, R(10, 14, USER), R(56, 60, UPDATE));
}

static void test_set_system_everything(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 0, 0, USER);
        set_ok(&m, 10, 20, CHROME);
        set_ok(&m, UINT32_MAX - 1, UINT32_MAX - 1, UPDATE);
        set_ok(&m, 0, UINT32_MAX - 1, SYSTEM);
        assert_int_equal(m.n, 0);
}

/* Refused calls */

static void test_set_first_above_last(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        assert_set_fails(&m, 5, 4, CHROME, -EINVAL);
}

static void test_set_first_above_last_system(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        assert_set_fails(&m, 150, 120, SYSTEM, -EINVAL);
}

static void test_set_unknown(void **state) {
        SourceMap m = {};

        (void) state;
        assert_set_fails(&m, 100, 200, TRAFFIC_SOURCE_UNKNOWN, -EINVAL);
}

static void test_set_arc(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 100, 200, USER);
        assert_set_fails(&m, 100, 200, TRAFFIC_SOURCE_ARC, -EINVAL);
}

static void test_set_crosvm(void **state) {
        SourceMap m = {};

        (void) state;
        assert_set_fails(&m, 100, 200, TRAFFIC_SOURCE_CROSVM, -EINVAL);
}

static void test_set_pluginvm(void **state) {
        SourceMap m = {};

        (void) state;
        assert_set_fails(&m, 100, 200, TRAFFIC_SOURCE_PLUGINVM, -EINVAL);
}

static void test_set_tether_downstream(void **state) {
        SourceMap m = {};

        (void) state;
        assert_set_fails(&m, 100, 200, TRAFFIC_SOURCE_TETHER_DOWNSTREAM, -EINVAL);
}

static void test_set_arc_vpn(void **state) {
        SourceMap m = {};

        (void) state;
        assert_set_fails(&m, 100, 200, TRAFFIC_SOURCE_ARC_VPN, -EINVAL);
}

static void test_set_invalid_source(void **state) {
        SourceMap m = {};

        (void) state;
        assert_set_fails(&m, 100, 200, _TRAFFIC_SOURCE_INVALID, -EINVAL);
}

/* SOURCE_MAP_MAX */

/* Fill m with SOURCE_MAP_MAX ranges of 3 uids, 10*i..10*i+2, sources alternating. */
static void fill(SourceMap *m) {
        for (uint32_t i = 0; i < SOURCE_MAP_MAX; i++)
                set_ok(m, 10 * i, 10 * i + 2, i % 2 ? USER : CHROME);
        assert_int_equal(m->n, SOURCE_MAP_MAX);
}

static void test_max_full(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        assert_int_equal(source_map_validate(m.ranges, m.n), 0);
        assert_int_equal(source_map_lookup(&m, 10 * (SOURCE_MAP_MAX - 1) + 2), USER);
        assert_int_equal(source_map_lookup(&m, 10 * (SOURCE_MAP_MAX - 1) + 3), SYSTEM);
}

static void test_max_one_more_after(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        assert_set_fails(&m, 10000, 10000, USER, -E2BIG);
}

static void test_max_one_more_before(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 5, 6, UPDATE);
        for (uint32_t i = 1; i < SOURCE_MAP_MAX; i++)
                set_ok(&m, 10 * i, 10 * i + 2, USER);
        assert_int_equal(m.n, SOURCE_MAP_MAX);
        assert_set_fails(&m, 0, 0, USER, -E2BIG);
}

/* Cutting one range in three needs two more. */
static void test_max_split(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        assert_set_fails(&m, 101, 101, HOST_VPN, -E2BIG);
}

/* Erasing the middle of a range needs one more. */
static void test_max_system_split(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        assert_set_fails(&m, 101, 101, SYSTEM, -E2BIG);
}

static void test_max_system_split_one_below(void **state) {
        SourceMap m = {};

        (void) state;
        for (uint32_t i = 0; i < SOURCE_MAP_MAX - 1; i++)
                set_ok(&m, 10 * i, 10 * i + 2, USER);
        set_ok(&m, 101, 101, SYSTEM);
        assert_int_equal(m.n, SOURCE_MAP_MAX);
        assert_int_equal(source_map_lookup(&m, 101), SYSTEM);
        assert_int_equal(source_map_validate(m.ranges, m.n), 0);
}

/* A full map still takes what needs no more ranges. */
static void test_max_repaint(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        set_ok(&m, 100, 102, UPDATE);
        assert_int_equal(m.n, SOURCE_MAP_MAX);
        assert_int_equal(source_map_lookup(&m, 101), UPDATE);
}

static void test_max_extend_neighbour(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        set_ok(&m, 3, 5, CHROME);
        assert_int_equal(m.n, SOURCE_MAP_MAX);
        assert_int_equal(m.ranges[0].last, 5);
}

static void test_max_merge_frees_one(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        set_ok(&m, 0, 12, CHROME);
        assert_int_equal(m.n, SOURCE_MAP_MAX - 1);
        set_ok(&m, 10000, 10000, USER);
        assert_int_equal(m.n, SOURCE_MAP_MAX);
}

static void test_max_erase(void **state) {
        SourceMap m = {};

        (void) state;
        fill(&m);
        set_ok(&m, 0, 2, SYSTEM);
        assert_int_equal(m.n, SOURCE_MAP_MAX - 1);
        assert_int_equal(m.ranges[0].first, 10);
}

/* Random sequences against a model: one source per uid of 0..MODEL_UIDS-1 */

#define MODEL_UIDS 200u

typedef struct Model {
        TrafficSource uid[MODEL_UIDS];
} Model;

/* xorshift32: the same sequence with every libc. */
static uint32_t next_random(uint32_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 17;
        *s ^= *s << 5;
        return *s;
}

/* The model's ranges, merged as the map's must be: runs of one source other than SYSTEM. */
static size_t model_ranges(const Model *model, UidRange *ret, size_t size) {
        size_t n = 0;

        for (uint32_t u = 0; u < MODEL_UIDS; u++) {
                TrafficSource s = model->uid[u];

                if (s == SYSTEM)
                        continue;
                if (n > 0 && ret[n - 1].source == s && ret[n - 1].last + 1 == u) {
                        ret[n - 1].last = u;
                        continue;
                }
                if (n < size)
                        ret[n] = R(u, u, s);
                n++;
        }
        return n;
}

static void assert_matches_model(const SourceMap *m, const Model *model) {
        UidRange expected[MODEL_UIDS];
        size_t n = model_ranges(model, expected, ELEMENTSOF(expected));

        assert_map(m, expected, n);
        for (size_t i = 0; i < m->n; i++) {
                assert_true(m->ranges[i].first <= m->ranges[i].last);
                if (i > 0)
                        assert_true(m->ranges[i - 1].last < m->ranges[i].first);
        }
        for (uint32_t u = 0; u < MODEL_UIDS + 10; u++)
                assert_int_equal(source_map_lookup(m, u), u < MODEL_UIDS ? model->uid[u] : SYSTEM);
        assert_int_equal(source_map_lookup(m, UINT32_MAX), SYSTEM);
}

/* iterations random calls, ranges of up to max_len uids; returns how many were -E2BIG. */
static unsigned run_model(uint32_t seed, unsigned iterations, uint32_t max_len) {
        static const TrafficSource sources[] = { CHROME, USER, UPDATE, SYSTEM, HOST_VPN };
        SourceMap m = {};
        Model model;
        uint32_t rnd = seed;
        unsigned too_big = 0;

        for (uint32_t u = 0; u < MODEL_UIDS; u++)
                model.uid[u] = SYSTEM;

        for (unsigned it = 0; it < iterations; it++) {
                uint32_t first = next_random(&rnd) % MODEL_UIDS;
                uint32_t len = next_random(&rnd) % max_len + 1;
                uint32_t last = first + len - 1 < MODEL_UIDS ? first + len - 1 : MODEL_UIDS - 1;
                TrafficSource s = sources[next_random(&rnd) % ELEMENTSOF(sources)];
                Model after = model;
                UidRange scratch[MODEL_UIDS];
                int r;

                for (uint32_t u = first; u <= last; u++)
                        after.uid[u] = s;
                r = source_map_set(&m, first, last, s);
                if (model_ranges(&after, scratch, ELEMENTSOF(scratch)) > SOURCE_MAP_MAX) {
                        if (r != -E2BIG)
                                print_error("iteration %u: set(%u, %u, %d) returned %d, "
                                            "not -E2BIG\n", it, first, last, (int) s, r);
                        assert_int_equal(r, -E2BIG);
                        too_big++;
                } else {
                        if (r != 0)
                                print_error("iteration %u: set(%u, %u, %d) returned %d\n", it,
                                            first, last, (int) s, r);
                        assert_int_equal(r, 0);
                        model = after;
                }
                assert_matches_model(&m, &model);
        }
        return too_big;
}

static void test_model_wide_ranges(void **state) {
        (void) state;
        run_model(/* seed= */ 0x12345678u, /* iterations= */ 500, /* max_len= */ MODEL_UIDS);
}

static void test_model_medium_ranges(void **state) {
        (void) state;
        run_model(/* seed= */ 0x9e3779b9u, /* iterations= */ 500, /* max_len= */ 20);
}

/* Short ranges fill the map: some calls must be refused, and leave it as it was. */
static void test_model_short_ranges_hit_max(void **state) {
        unsigned too_big;

        (void) state;
        too_big = run_model(/* seed= */ 0xdeadbeefu, /* iterations= */ 800, /* max_len= */ 2);
        assert_true(too_big > 0);
}

static void test_model_many_seeds(void **state) {
        (void) state;
        for (uint32_t seed = 1; seed <= 20; seed++)
                run_model(seed * 2654435761u, /* iterations= */ 300, /* max_len= */ 1 + seed * 5);
}

/* source_map_parse_entry() */

static void assert_parse(const char *text, uint32_t first, uint32_t last, TrafficSource source) {
        uint32_t f = 0xdeadbeef, l = 0xdeadbeef;
        TrafficSource s = _TRAFFIC_SOURCE_INVALID;

        assert_int_equal(source_map_parse_entry(text, &f, &l, &s), 0);
        assert_int_equal(f, first);
        assert_int_equal(l, last);
        assert_int_equal(s, source);
}

static void assert_parse_fails(const char *text, int expected) {
        uint32_t f, l;
        TrafficSource s = _TRAFFIC_SOURCE_INVALID;

        assert_int_equal(source_map_parse_entry(text, &f, &l, &s), expected);
        assert_int_equal(s, _TRAFFIC_SOURCE_INVALID);
}

static void test_parse_single(void **state) {
        (void) state;
        assert_parse("1000=user", 1000, 1000, USER);
}

static void test_parse_range(void **state) {
        (void) state;
        assert_parse("1000-2000=chrome", 1000, 2000, CHROME);
}

static void test_parse_range_one_uid(void **state) {
        (void) state;
        assert_parse("7-7=update-engine", 7, 7, UPDATE);
}

static void test_parse_uid_0(void **state) {
        (void) state;
        assert_parse("0=user", 0, 0, USER);
}

static void test_parse_highest_uid(void **state) {
        (void) state;
        assert_parse("4294967294=user", UINT32_MAX - 1, UINT32_MAX - 1, USER);
}

static void test_parse_full_range(void **state) {
        (void) state;
        assert_parse("0-4294967294=host-vpn", 0, UINT32_MAX - 1, HOST_VPN);
}

/* SYSTEM is a local source: an entry can give uids back to the default. */
static void test_parse_system(void **state) {
        (void) state;
        assert_parse("1000=system", 1000, 1000, SYSTEM);
}

static void test_parse_update_engine(void **state) {
        (void) state;
        assert_parse("20123=update-engine", 20123, 20123, UPDATE);
}

static void test_parse_first_above_last(void **state) {
        (void) state;
        assert_parse_fails("5-4=user", -EINVAL);
}

static void test_parse_not_a_number(void **state) {
        (void) state;
        assert_parse_fails("x=user", -EINVAL);
}

static void test_parse_last_not_a_number(void **state) {
        (void) state;
        assert_parse_fails("1000-x=user", -EINVAL);
}

static void test_parse_arc(void **state) {
        (void) state;
        assert_parse_fails("1000=arc", -EINVAL);
}

static void test_parse_crosvm(void **state) {
        (void) state;
        assert_parse_fails("1000=crosvm", -EINVAL);
}

static void test_parse_unknown(void **state) {
        (void) state;
        assert_parse_fails("1000=unknown", -EINVAL);
}

static void test_parse_no_such_source(void **state) {
        (void) state;
        assert_parse_fails("1000=root", -EINVAL);
}

static void test_parse_source_case(void **state) {
        (void) state;
        assert_parse_fails("1000=User", -EINVAL);
}

/* (uid_t) -1 is "no uid". */
static void test_parse_uid_uint32_max(void **state) {
        (void) state;
        assert_parse_fails("4294967295=user", -ERANGE);
}

static void test_parse_last_uint32_max(void **state) {
        (void) state;
        assert_parse_fails("0-4294967295=user", -ERANGE);
}

static void test_parse_uid_beyond_32_bits(void **state) {
        (void) state;
        assert_parse_fails("4294967296=user", -ERANGE);
}

static void test_parse_uid_10_digits_too_big(void **state) {
        (void) state;
        assert_parse_fails("9999999999=user", -ERANGE);
}

static void test_parse_uid_11_digits(void **state) {
        (void) state;
        assert_parse_fails("10000000000=user", -EINVAL);
}

/* 2^64 + 1000 would be 1000 if the digits were summed in 64 bits. */
static void test_parse_uid_wraps_64_bits(void **state) {
        (void) state;
        assert_parse_fails("18446744073709552616=user", -EINVAL);
}

static void test_parse_missing_equals(void **state) {
        (void) state;
        assert_parse_fails("1000", -EINVAL);
}

static void test_parse_missing_equals_range(void **state) {
        (void) state;
        assert_parse_fails("1000-2000", -EINVAL);
}

static void test_parse_empty(void **state) {
        (void) state;
        assert_parse_fails("", -EINVAL);
}

static void test_parse_equals_only(void **state) {
        (void) state;
        assert_parse_fails("=", -EINVAL);
}

static void test_parse_missing_uid(void **state) {
        (void) state;
        assert_parse_fails("=user", -EINVAL);
}

static void test_parse_missing_source(void **state) {
        (void) state;
        assert_parse_fails("1000=", -EINVAL);
}

static void test_parse_missing_last(void **state) {
        (void) state;
        assert_parse_fails("1000-=user", -EINVAL);
}

static void test_parse_missing_first(void **state) {
        (void) state;
        assert_parse_fails("-1000=user", -EINVAL);
}

static void test_parse_two_dashes(void **state) {
        (void) state;
        assert_parse_fails("1000-2000-3000=user", -EINVAL);
}

static void test_parse_plus(void **state) {
        (void) state;
        assert_parse_fails("+1000=user", -EINVAL);
}

static void test_parse_space_before_equals(void **state) {
        (void) state;
        assert_parse_fails("1000 =user", -EINVAL);
}

static void test_parse_space_after_equals(void **state) {
        (void) state;
        assert_parse_fails("1000= user", -EINVAL);
}

static void test_parse_leading_space(void **state) {
        (void) state;
        assert_parse_fails(" 1000=user", -EINVAL);
}

static void test_parse_trailing_newline(void **state) {
        (void) state;
        assert_parse_fails("1000=user\n", -EINVAL);
}

static void test_parse_hex(void **state) {
        (void) state;
        assert_parse_fails("0x10=user", -EINVAL);
}

static void test_parse_second_equals(void **state) {
        (void) state;
        assert_parse_fails("1000=user=chrome", -EINVAL);
}

/* The dash of "update-engine" is not a range's. */
static void test_parse_dash_only_after_equals(void **state) {
        (void) state;
        assert_parse("1000=update-engine", 1000, 1000, UPDATE);
}

/* source_map_validate() */

static void test_validate_empty(void **state) {
        (void) state;
        assert_int_equal(source_map_validate(NULL, 0), 0);
}

static void test_validate_ok(void **state) {
        const UidRange r[] = { R(0, 0, USER), R(1000, 1999, CHROME), R(2000, 2000, UPDATE),
                               R(5000, UINT32_MAX - 1, HOST_VPN) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), 0);
}

/* Adjacent ranges of one source are not merged, but not wrong either. */
static void test_validate_adjacent_same_source(void **state) {
        const UidRange r[] = { R(1000, 1999, USER), R(2000, 2999, USER) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), 0);
}

static void test_validate_unsorted(void **state) {
        const UidRange r[] = { R(2000, 2999, USER), R(1000, 1999, CHROME) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_overlap(void **state) {
        const UidRange r[] = { R(1000, 2000, USER), R(1500, 2999, CHROME) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_overlap_one_uid(void **state) {
        const UidRange r[] = { R(1000, 2000, USER), R(2000, 2999, CHROME) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_duplicate(void **state) {
        const UidRange r[] = { R(1000, 2000, USER), R(1000, 2000, USER) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_contained(void **state) {
        const UidRange r[] = { R(1000, 2000, USER), R(1100, 1200, CHROME), R(3000, 3000, USER) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_first_above_last(void **state) {
        const UidRange r[] = { R(2000, 1000, USER) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_last_uint32_max(void **state) {
        const UidRange r[] = { R(5000, UINT32_MAX, USER) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_system(void **state) {
        const UidRange r[] = { R(1000, 1999, USER), R(3000, 3999, SYSTEM) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_unknown(void **state) {
        const UidRange r[] = { R(1000, 1999, TRAFFIC_SOURCE_UNKNOWN) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_arc(void **state) {
        const UidRange r[] = { R(1000, 1999, TRAFFIC_SOURCE_ARC) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_invalid_source(void **state) {
        const UidRange r[] = { R(1000, 1999, _TRAFFIC_SOURCE_INVALID) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_bad_range_after_good(void **state) {
        const UidRange r[] = { R(1000, 1999, USER), R(3000, 3999, CHROME), R(5000, 4000, USER) };

        (void) state;
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -EINVAL);
}

static void test_validate_max(void **state) {
        UidRange r[SOURCE_MAP_MAX];

        (void) state;
        for (uint32_t i = 0; i < SOURCE_MAP_MAX; i++)
                r[i] = R(10 * i, 10 * i + 5, USER);
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), 0);
}

static void test_validate_above_max(void **state) {
        UidRange r[SOURCE_MAP_MAX + 1];

        (void) state;
        for (uint32_t i = 0; i < SOURCE_MAP_MAX + 1; i++)
                r[i] = R(10 * i, 10 * i + 5, USER);
        assert_int_equal(source_map_validate(r, ELEMENTSOF(r)), -E2BIG);
}

/* source_map_lookup() */

static void test_lookup_empty(void **state) {
        SourceMap m = {};

        (void) state;
        assert_int_equal(source_map_lookup(&m, 0), SYSTEM);
        assert_int_equal(source_map_lookup(&m, 1000), SYSTEM);
        assert_int_equal(source_map_lookup(&m, UINT32_MAX), SYSTEM);
}

static void test_lookup_edges(void **state) {
        SourceMap m = {};

        (void) state;
        set_ok(&m, 1000, 1999, CHROME);
        set_ok(&m, 2000, 2000, USER);
        assert_int_equal(source_map_lookup(&m, 999), SYSTEM);
        assert_int_equal(source_map_lookup(&m, 1000), CHROME);
        assert_int_equal(source_map_lookup(&m, 1999), CHROME);
        assert_int_equal(source_map_lookup(&m, 2000), USER);
        assert_int_equal(source_map_lookup(&m, 2001), SYSTEM);
}

#define T(f) cmocka_unit_test(f)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_set_empty_map),
                T(test_set_single_uid),
                T(test_set_uid_0),
                T(test_set_highest_uid),
                T(test_set_disjoint_after),
                T(test_set_disjoint_before),
                T(test_set_disjoint_between),
                T(test_set_later_wins_overlap_right),
                T(test_set_later_wins_overlap_left),
                T(test_set_later_wins_same_range),
                T(test_set_later_wins_covering),
                T(test_set_later_wins_same_first),
                T(test_set_later_wins_same_last),
                T(test_set_split_into_three),
                T(test_set_split_single_uid),
                T(test_set_split_at_uid_0),
                T(test_set_across_several),
                T(test_set_covering_several),
                T(test_set_merge_right_neighbour),
                T(test_set_merge_left_neighbour),
                T(test_set_merge_bridge),
                T(test_set_merge_inside_same_source),
                T(test_set_merge_overlap_same_source),
                T(test_set_merge_after_repaint),
                T(test_set_no_merge_other_source),
                T(test_set_no_merge_gap),
                T(test_set_system_on_empty),
                T(test_set_system_erases_all),
                T(test_set_system_erases_middle),
                T(test_set_system_erases_edges),
                T(test_set_system_across_several),
                T(test_set_system_everything),
                T(test_set_first_above_last),
                T(test_set_first_above_last_system),
                T(test_set_unknown),
                T(test_set_arc),
                T(test_set_crosvm),
                T(test_set_pluginvm),
                T(test_set_tether_downstream),
                T(test_set_arc_vpn),
                T(test_set_invalid_source),
                T(test_max_full),
                T(test_max_one_more_after),
                T(test_max_one_more_before),
                T(test_max_split),
                T(test_max_system_split),
                T(test_max_system_split_one_below),
                T(test_max_repaint),
                T(test_max_extend_neighbour),
                T(test_max_merge_frees_one),
                T(test_max_erase),
                T(test_model_wide_ranges),
                T(test_model_medium_ranges),
                T(test_model_short_ranges_hit_max),
                T(test_model_many_seeds),
                T(test_parse_single),
                T(test_parse_range),
                T(test_parse_range_one_uid),
                T(test_parse_uid_0),
                T(test_parse_highest_uid),
                T(test_parse_full_range),
                T(test_parse_system),
                T(test_parse_update_engine),
                T(test_parse_first_above_last),
                T(test_parse_not_a_number),
                T(test_parse_last_not_a_number),
                T(test_parse_arc),
                T(test_parse_crosvm),
                T(test_parse_unknown),
                T(test_parse_no_such_source),
                T(test_parse_source_case),
                T(test_parse_uid_uint32_max),
                T(test_parse_last_uint32_max),
                T(test_parse_uid_beyond_32_bits),
                T(test_parse_uid_10_digits_too_big),
                T(test_parse_uid_11_digits),
                T(test_parse_uid_wraps_64_bits),
                T(test_parse_missing_equals),
                T(test_parse_missing_equals_range),
                T(test_parse_empty),
                T(test_parse_equals_only),
                T(test_parse_missing_uid),
                T(test_parse_missing_source),
                T(test_parse_missing_last),
                T(test_parse_missing_first),
                T(test_parse_two_dashes),
                T(test_parse_plus),
                T(test_parse_space_before_equals),
                T(test_parse_space_after_equals),
                T(test_parse_leading_space),
                T(test_parse_trailing_newline),
                T(test_parse_hex),
                T(test_parse_second_equals),
                T(test_parse_dash_only_after_equals),
                T(test_validate_empty),
                T(test_validate_ok),
                T(test_validate_adjacent_same_source),
                T(test_validate_unsorted),
                T(test_validate_overlap),
                T(test_validate_overlap_one_uid),
                T(test_validate_duplicate),
                T(test_validate_contained),
                T(test_validate_first_above_last),
                T(test_validate_last_uint32_max),
                T(test_validate_system),
                T(test_validate_unknown),
                T(test_validate_arc),
                T(test_validate_invalid_source),
                T(test_validate_bad_range_after_good),
                T(test_validate_max),
                T(test_validate_above_max),
                T(test_lookup_empty),
                T(test_lookup_edges),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
