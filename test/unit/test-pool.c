/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/pool.h: pool strings, the default layout, allocation and release of subnets.
 * Addresses are written as IPV4(a, b, c, d) so that each one reads as in the docs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "macro.h"
#include "pool.h"

#define IPV4(a, b, c, d)                                                        \
        ((uint32_t) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) |         \
                     ((uint32_t) (c) << 8) | (uint32_t) (d)))

/* A PoolConfig that is never a parse result, to see that failures leave *ret alone. */
static const PoolConfig sentinel = { .base = 0xdeadbeefu, .prefix_len = 99, .count = 12345 };

static void assert_config(const PoolConfig *c, uint32_t base, uint8_t prefix_len, uint32_t count) {
        assert_int_equal(c->base, base);
        assert_int_equal(c->prefix_len, prefix_len);
        assert_int_equal(c->count, count);
}

static void assert_parse_fails(const char *s, int expected) {
        PoolConfig c = sentinel;

        assert_int_equal(pool_config_parse(s, &c), expected);
        assert_config(&c, sentinel.base, sentinel.prefix_len, sentinel.count);
}

static Pool *new_pool(uint32_t base, uint8_t prefix_len, uint32_t count) {
        PoolConfig c = { .base = base, .prefix_len = prefix_len, .count = count };
        Pool *p = pool_new(&c);

        assert_non_null(p);
        return p;
}

/* pool_config_parse(): accepted forms */

static void test_parse_multi(void **state) {
        PoolConfig c;

        (void) state;
        assert_int_equal(pool_config_parse("100.115.92.128/30x16", &c), 0);
        assert_config(&c, IPV4(100, 115, 92, 128), 30, 16);
        assert_int_equal(c.base, 0x64735c80u);
}

static void test_parse_single(void **state) {
        PoolConfig c;

        (void) state;
        assert_int_equal(pool_config_parse("10.20.30.0/24", &c), 0);
        assert_config(&c, IPV4(10, 20, 30, 0), 24, 1);
}

static void test_parse_prefix_8(void **state) {
        PoolConfig c;

        (void) state;
        assert_int_equal(pool_config_parse("10.0.0.0/8", &c), 0);
        assert_config(&c, IPV4(10, 0, 0, 0), 8, 1);
}

static void test_parse_count_max(void **state) {
        PoolConfig c;

        (void) state;
        assert_int_equal(pool_config_parse("10.0.0.0/30x65536", &c), 0);
        assert_config(&c, IPV4(10, 0, 0, 0), 30, POOL_COUNT_MAX);
}

static void test_parse_ends_at_top_of_space(void **state) {
        PoolConfig c;

        (void) state;
        /* Ends exactly at 255.255.255.255: allowed, it does not wrap. */
        assert_int_equal(pool_config_parse("255.255.255.248/30x2", &c), 0);
        assert_config(&c, IPV4(255, 255, 255, 248), 30, 2);
        assert_int_equal(pool_config_last(&c), UINT32_MAX);
}

static void test_parse_to_string_round_trip(void **state) {
        char buf[32];
        PoolConfig c, d;

        (void) state;
        assert_int_equal(pool_config_parse("100.115.92.128/30x16", &c), 0);
        assert_string_equal(pool_config_to_string(&c, buf, sizeof buf), "100.115.92.128/30x16");
        assert_int_equal(pool_config_parse(buf, &d), 0);
        assert_config(&d, c.base, c.prefix_len, c.count);
}

/* pool_config_parse(): rejected forms, one per test */

static void test_parse_null(void **state) {
        (void) state;
        assert_parse_fails(NULL, -EINVAL);
}

static void test_parse_empty(void **state) {
        (void) state;
        assert_parse_fails("", -EINVAL);
}

static void test_parse_no_slash(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128", -EINVAL);
}

static void test_parse_bad_address(void **state) {
        (void) state;
        assert_parse_fails("100.115.92/30x16", -EINVAL);
}

static void test_parse_address_octet_too_big(void **state) {
        (void) state;
        assert_parse_fails("100.115.256.128/30x16", -EINVAL);
}

static void test_parse_address_too_long(void **state) {
        (void) state;
        /* Longer than any dotted quad: must not overflow the copy. */
        assert_parse_fails("100.115.92.128.100.115.92.128/30", -EINVAL);
}

static void test_parse_misaligned_base(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.129/30x16", -EINVAL);
}

static void test_parse_misaligned_base_single(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.16/24", -EINVAL);
}

static void test_parse_prefix_7(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/7", -EINVAL);
}

static void test_parse_prefix_0(void **state) {
        (void) state;
        assert_parse_fails("0.0.0.0/0", -EINVAL);
}

static void test_parse_prefix_31(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/31", -EINVAL);
}

static void test_parse_prefix_32(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/32", -EINVAL);
}

static void test_parse_prefix_33(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/33", -EINVAL);
}

static void test_parse_prefix_huge(void **state) {
        (void) state;
        /* 2^32 + 30: must not be truncated to 30. */
        assert_parse_fails("10.0.0.0/4294967326", -EINVAL);
}

static void test_parse_prefix_missing(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/", -EINVAL);
}

static void test_parse_prefix_missing_with_count(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/x4", -EINVAL);
}

static void test_parse_prefix_signed(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/+30", -EINVAL);
}

static void test_parse_prefix_space(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/ 30", -EINVAL);
}

static void test_parse_count_zero(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x0", -ERANGE);
}

static void test_parse_count_too_big(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/30x65537", -ERANGE);
}

static void test_parse_count_overflows_ulong(void **state) {
        (void) state;
        assert_parse_fails("10.0.0.0/30x99999999999999999999999", -ERANGE);
}

static void test_parse_count_missing(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x", -EINVAL);
}

static void test_parse_count_negative(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x-1", -EINVAL);
}

static void test_parse_count_space(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x 16", -EINVAL);
}

static void test_parse_trailing_letter(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x16a", -EINVAL);
}

static void test_parse_trailing_space(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x16 ", -EINVAL);
}

static void test_parse_trailing_after_prefix(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30y16", -EINVAL);
}

static void test_parse_double_count(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30x16x2", -EINVAL);
}

static void test_parse_uppercase_x(void **state) {
        (void) state;
        assert_parse_fails("100.115.92.128/30X16", -EINVAL);
}

static void test_parse_wraps(void **state) {
        (void) state;
        /* 255.255.255.252 + 2 * 4 goes past 255.255.255.255. */
        assert_parse_fails("255.255.255.252/30x2", -ERANGE);
}

static void test_parse_wraps_large_count(void **state) {
        (void) state;
        /* 65536 /8s would need 2^40 addresses. */
        assert_parse_fails("10.0.0.0/8x65536", -ERANGE);
}

/* pool_config_validate(), first and last */

static void test_config_first_last(void **state) {
        PoolConfig c = { .base = IPV4(100, 115, 92, 128), .prefix_len = 30, .count = 16 };

        (void) state;
        assert_int_equal(pool_config_first(&c), IPV4(100, 115, 92, 128));
        assert_int_equal(pool_config_last(&c), IPV4(100, 115, 92, 191));
}

static void test_config_validate_ok(void **state) {
        PoolConfig c = { .base = IPV4(100, 115, 92, 128), .prefix_len = 30, .count = 16 };

        (void) state;
        assert_int_equal(pool_config_validate(&c), 0);
}

static void test_kind_to_string(void **state) {
        (void) state;
        assert_string_equal(pool_kind_to_string(POOL_ARC), "arc");
        assert_string_equal(pool_kind_to_string(POOL_ARC_NET), "arc-net");
        assert_string_equal(pool_kind_to_string(POOL_TERMINA), "termina");
        assert_string_equal(pool_kind_to_string(POOL_NETNS), "netns");
        assert_string_equal(pool_kind_to_string(POOL_LXD), "lxd");
        assert_string_equal(pool_kind_to_string(POOL_PLUGINVM), "pluginvm");
        assert_null(pool_kind_to_string(_POOL_KIND_MAX));
        assert_null(pool_kind_to_string(_POOL_KIND_INVALID));
}

/* pool_layout_init() and pool_layout_validate() */

static void test_layout_default(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_config(&l.pools[POOL_ARC], IPV4(100, 115, 92, 0), 30, 1);
        assert_config(&l.pools[POOL_ARC_NET], IPV4(100, 115, 92, 4), 30, 5);
        assert_config(&l.pools[POOL_TERMINA], IPV4(100, 115, 92, 24), 30, 26);
        assert_config(&l.pools[POOL_NETNS], IPV4(100, 115, 92, 128), 30, 16);
        assert_config(&l.pools[POOL_LXD], IPV4(100, 115, 92, 192), 28, 4);
        assert_config(&l.pools[POOL_PLUGINVM], IPV4(100, 115, 93, 0), 29, 32);
}

static void test_layout_default_validates(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_layout_validate(&l), 0);
}

static void test_layout_default_tiles_the_23(void **state) {
        PoolLayout l;

        (void) state;
        /* In kind order, each pool starts right after the previous one and the last ends
         * at the top of the /23. */
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_first(&l.pools[0]), POOL_DEFAULT_BASE);
        for (int i = 1; i < _POOL_KIND_MAX; i++)
                assert_int_equal(pool_config_first(&l.pools[i]),
                                 pool_config_last(&l.pools[i - 1]) + 1);
        assert_int_equal(pool_config_last(&l.pools[_POOL_KIND_MAX - 1]), IPV4(100, 115, 93, 255));
}

static void test_layout_moved(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, IPV4(10, 1, 2, 0)), 0);
        assert_config(&l.pools[POOL_NETNS], IPV4(10, 1, 2, 128), 30, 16);
        assert_config(&l.pools[POOL_PLUGINVM], IPV4(10, 1, 3, 0), 29, 32);
        assert_int_equal(pool_layout_validate(&l), 0);
}

static void test_layout_unaligned_base_24(void **state) {
        PoolLayout l = { .pools[POOL_NETNS] = sentinel };

        (void) state;
        /* Aligned to a /24 but not to a /23. */
        assert_int_equal(pool_layout_init(&l, IPV4(100, 115, 93, 0)), -EINVAL);
        assert_config(&l.pools[POOL_NETNS], sentinel.base, sentinel.prefix_len, sentinel.count);
}

static void test_layout_unaligned_base_low_bits(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, IPV4(100, 115, 92, 4)), -EINVAL);
}

static void test_layout_netns_overlaps_pluginvm(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_parse("100.115.93.64/30x16", &l.pools[POOL_NETNS]), 0);
        assert_int_equal(pool_layout_validate(&l), -EADDRINUSE);
}

static void test_layout_netns_overlaps_termina_tail(void **state) {
        PoolLayout l;

        (void) state;
        /* .112-.143: the last four TERMINA subnets. */
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_parse("100.115.92.112/30x8", &l.pools[POOL_NETNS]), 0);
        assert_int_equal(pool_layout_validate(&l), -EADDRINUSE);
}

static void test_layout_netns_overlaps_one_subnet(void **state) {
        PoolLayout l;

        (void) state;
        /* Just the last TERMINA subnet. */
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_parse("100.115.92.124/30", &l.pools[POOL_NETNS]), 0);
        assert_int_equal(pool_layout_validate(&l), -EADDRINUSE);
}

static void test_layout_netns_covers_everything(void **state) {
        PoolLayout l;

        (void) state;
        /* A pool that contains every other pool. */
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_parse("100.115.0.0/16", &l.pools[POOL_NETNS]), 0);
        assert_int_equal(pool_layout_validate(&l), -EADDRINUSE);
}

static void test_layout_netns_adjacent_is_not_overlap(void **state) {
        PoolLayout l;

        (void) state;
        /* Starts right after PLUGINVM's last address. */
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_parse("100.115.94.0/30x64", &l.pools[POOL_NETNS]), 0);
        assert_int_equal(pool_layout_validate(&l), 0);
}

static void test_layout_netns_elsewhere(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        assert_int_equal(pool_config_parse("10.0.0.0/30x1000", &l.pools[POOL_NETNS]), 0);
        assert_int_equal(pool_layout_validate(&l), 0);
}

static void test_layout_invalid_pool(void **state) {
        PoolLayout l;

        (void) state;
        assert_int_equal(pool_layout_init(&l, POOL_DEFAULT_BASE), 0);
        l.pools[POOL_LXD].count = 0;
        assert_int_equal(pool_layout_validate(&l), -ERANGE);
}

/* pool_new() */

static void test_new_invalid_config(void **state) {
        PoolConfig c = { .base = IPV4(100, 115, 92, 129), .prefix_len = 30, .count = 16 };

        (void) state;
        assert_null(pool_new(&c));
}

static void test_new_empty(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);

        (void) state;
        assert_int_equal(pool_n_allocated(p), 0);
        assert_config(pool_get_config(p), IPV4(100, 115, 92, 128), 30, 16);
        pool_free(p);
}

static void test_free_null(void **state) {
        (void) state;
        assert_null(pool_free(NULL));
}

/* pool_allocate() */

static void test_allocate_lowest_first(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        for (uint32_t i = 0; i < 3; i++) {
                assert_int_equal(pool_allocate(p, 0, &s), 0);
                assert_int_equal(s.base, IPV4(100, 115, 92, 128) + 4 * i);
                assert_int_equal(s.prefix_len, 30);
        }
        assert_int_equal(pool_n_allocated(p), 3);
        pool_free(p);
}

static void test_allocate_lowest_skips_taken(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 1, &s), 0);
        assert_int_equal(pool_allocate(p, 2, &s), 0);
        assert_int_equal(pool_allocate(p, 4, &s), 0);
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 136));
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 144));
        pool_free(p);
}

static void test_allocate_exact_index(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 5, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 144));
        assert_int_equal(s.prefix_len, 30);
        assert_int_equal(pool_n_allocated(p), 1);
        /* The lowest free one is still the first. */
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 128));
        pool_free(p);
}

static void test_allocate_exact_first(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 1, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 128));
        pool_free(p);
}

static void test_allocate_exact_last(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 16, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 188));
        pool_free(p);
}

static void test_allocate_exact_taken(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s, t = { .base = 0xdeadbeefu, .prefix_len = 99 };

        (void) state;
        assert_int_equal(pool_allocate(p, 3, &s), 0);
        assert_int_equal(pool_allocate(p, 3, &t), -EEXIST);
        assert_int_equal(t.base, 0xdeadbeefu);
        assert_int_equal(pool_n_allocated(p), 1);
        pool_free(p);
}

static void test_allocate_exact_beyond(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 17, &s), -ERANGE);
        assert_int_equal(pool_n_allocated(p), 0);
        pool_free(p);
}

static void test_allocate_exact_uint32_max(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, UINT32_MAX, &s), -ERANGE);
        pool_free(p);
}

static void test_allocate_full(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        for (uint32_t i = 0; i < 16; i++)
                assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 188));
        assert_int_equal(pool_allocate(p, 0, &s), -ENOSPC);
        assert_int_equal(pool_n_allocated(p), 16);
        pool_free(p);
}

static void test_allocate_single_subnet_pool(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 0), 30, 1);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 0));
        assert_int_equal(pool_allocate(p, 0, &s), -ENOSPC);
        assert_int_equal(pool_allocate(p, 1, &s), -EEXIST);
        assert_int_equal(pool_allocate(p, 2, &s), -ERANGE);
        pool_free(p);
}

/* Fill a pool of `count` /30s one by one, checking each subnet, then check it is full. */
static void fill_and_check(uint32_t count) {
        Pool *p = new_pool(IPV4(10, 0, 0, 0), 30, count);
        Subnet s;

        for (uint32_t i = 0; i < count; i++) {
                assert_int_equal(pool_allocate(p, 0, &s), 0);
                assert_int_equal(s.base, IPV4(10, 0, 0, 0) + 4 * i);
                assert_int_equal(pool_index_of(p, &s), i + 1);
        }
        assert_int_equal(pool_n_allocated(p), count);
        assert_int_equal(pool_allocate(p, 0, &s), -ENOSPC);
        assert_int_equal(pool_allocate(p, count + 1, &s), -ERANGE);
        assert_int_equal(pool_n_allocated(p), count);

        /* A hole in the last bitmap word, then one in the first, fill up lowest first. */
        Subnet last = { .base = IPV4(10, 0, 0, 0) + 4 * (count - 1), .prefix_len = 30 };
        Subnet first = { .base = IPV4(10, 0, 0, 0), .prefix_len = 30 };
        assert_int_equal(pool_release(p, &last), 0);
        assert_int_equal(pool_release(p, &first), 0);
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, first.base);
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, last.base);
        assert_int_equal(pool_allocate(p, 0, &s), -ENOSPC);
        pool_free(p);
}

static void test_allocate_count_64(void **state) {
        (void) state;
        fill_and_check(64);
}

static void test_allocate_count_65(void **state) {
        (void) state;
        fill_and_check(65);
}

static void test_allocate_count_70(void **state) {
        (void) state;
        fill_and_check(70);
}

static void test_allocate_count_1000(void **state) {
        (void) state;
        fill_and_check(1000);
}

static void test_allocate_count_max(void **state) {
        (void) state;
        fill_and_check(POOL_COUNT_MAX);
}

static void test_allocate_count_70_exact_tail(void **state) {
        Pool *p = new_pool(IPV4(10, 0, 0, 0), 30, 70);
        Subnet s;

        (void) state;
        /* Indexes in the partly used last bitmap word. */
        assert_int_equal(pool_allocate(p, 70, &s), 0);
        assert_int_equal(s.base, IPV4(10, 0, 1, 20));
        assert_int_equal(pool_allocate(p, 71, &s), -ERANGE);
        assert_int_equal(pool_allocate(p, 65, &s), 0);
        assert_int_equal(s.base, IPV4(10, 0, 1, 0));
        pool_free(p);
}

static void test_allocate_prefix_28(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 192), 28, 4);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 192));
        assert_int_equal(s.prefix_len, 28);
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 208));
        pool_free(p);
}

static void test_allocate_at_top_of_space(void **state) {
        Pool *p = new_pool(IPV4(255, 255, 255, 248), 30, 2);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 2, &s), 0);
        assert_int_equal(s.base, IPV4(255, 255, 255, 252));
        assert_int_equal(subnet_broadcast(&s), UINT32_MAX);
        assert_int_equal(pool_index_of(p, &s), 2);
        assert_int_equal(pool_release(p, &s), 0);
        pool_free(p);
}

/* pool_release() */

static void test_release(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(pool_release(p, &s), 0);
        assert_int_equal(pool_n_allocated(p), 0);
        pool_free(p);
}

static void test_release_twice(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s, t;

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(pool_allocate(p, 0, &t), 0);
        assert_int_equal(pool_release(p, &s), 0);
        assert_int_equal(pool_release(p, &s), -ENOENT);
        assert_int_equal(pool_n_allocated(p), 1);
        pool_free(p);
}

static void test_release_never_allocated(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s = { .base = IPV4(100, 115, 92, 132), .prefix_len = 30 };

        (void) state;
        assert_int_equal(pool_release(p, &s), -ENOENT);
        assert_int_equal(pool_n_allocated(p), 0);
        pool_free(p);
}

static void test_release_foreign_subnet(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s, foreign = { .base = IPV4(100, 115, 92, 24), .prefix_len = 30 };

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(pool_release(p, &foreign), -ENOENT);
        assert_int_equal(pool_n_allocated(p), 1);
        pool_free(p);
}

static void test_release_misaligned(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s, bad = { .base = IPV4(100, 115, 92, 129), .prefix_len = 30 };

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(pool_release(p, &bad), -ENOENT);
        assert_int_equal(pool_n_allocated(p), 1);
        pool_free(p);
}

static void test_release_wrong_prefix(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s, bad = { .base = IPV4(100, 115, 92, 128), .prefix_len = 29 };

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &s), 0);
        assert_int_equal(pool_release(p, &bad), -ENOENT);
        assert_int_equal(pool_n_allocated(p), 1);
        pool_free(p);
}

static void test_release_reuses_slot(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet a, b, c, again;

        (void) state;
        assert_int_equal(pool_allocate(p, 0, &a), 0);
        assert_int_equal(pool_allocate(p, 0, &b), 0);
        assert_int_equal(pool_allocate(p, 0, &c), 0);
        assert_int_equal(pool_release(p, &b), 0);
        assert_int_equal(pool_allocate(p, 0, &again), 0);
        assert_int_equal(again.base, b.base);
        assert_int_equal(again.prefix_len, b.prefix_len);
        assert_int_equal(pool_n_allocated(p), 3);
        pool_free(p);
}

static void test_release_then_exact(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 7, &s), 0);
        assert_int_equal(pool_release(p, &s), 0);
        assert_int_equal(pool_allocate(p, 7, &s), 0);
        assert_int_equal(s.base, IPV4(100, 115, 92, 152));
        pool_free(p);
}

/* pool_index_of() */

static void test_index_of_first_and_last(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet first = { .base = IPV4(100, 115, 92, 128), .prefix_len = 30 };
        Subnet last = { .base = IPV4(100, 115, 92, 188), .prefix_len = 30 };

        (void) state;
        /* Independent of allocation. */
        assert_int_equal(pool_index_of(p, &first), 1);
        assert_int_equal(pool_index_of(p, &last), 16);
        pool_free(p);
}

static void test_index_of_matches_allocate(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s;

        (void) state;
        assert_int_equal(pool_allocate(p, 9, &s), 0);
        assert_int_equal(pool_index_of(p, &s), 9);
        pool_free(p);
}

static void test_index_of_misaligned(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s = { .base = IPV4(100, 115, 92, 130), .prefix_len = 30 };

        (void) state;
        assert_int_equal(pool_index_of(p, &s), 0);
        pool_free(p);
}

static void test_index_of_wrong_prefix(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s = { .base = IPV4(100, 115, 92, 128), .prefix_len = 28 };

        (void) state;
        assert_int_equal(pool_index_of(p, &s), 0);
        pool_free(p);
}

static void test_index_of_below(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s = { .base = IPV4(100, 115, 92, 124), .prefix_len = 30 };

        (void) state;
        assert_int_equal(pool_index_of(p, &s), 0);
        pool_free(p);
}

static void test_index_of_above(void **state) {
        Pool *p = new_pool(IPV4(100, 115, 92, 128), 30, 16);
        Subnet s = { .base = IPV4(100, 115, 92, 192), .prefix_len = 30 };

        (void) state;
        assert_int_equal(pool_index_of(p, &s), 0);
        pool_free(p);
}

/* pool_config_has_subnet() */

static const PoolConfig netns = { .base = IPV4(100, 115, 92, 128), .prefix_len = 30, .count = 16 };

static void test_has_subnet_first(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 128), .prefix_len = 30 };

        (void) state;
        assert_true(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_middle(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 160), .prefix_len = 30 };

        (void) state;
        assert_true(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_last(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 188), .prefix_len = 30 };

        (void) state;
        assert_true(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_misaligned(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 129), .prefix_len = 30 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_misaligned_last(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 191), .prefix_len = 30 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_shorter_prefix(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 128), .prefix_len = 29 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_longer_prefix(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 128), .prefix_len = 31 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_below(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 124), .prefix_len = 30 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_just_past_end(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 192), .prefix_len = 30 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_far_away(void **state) {
        Subnet s = { .base = IPV4(10, 0, 0, 128), .prefix_len = 30 };

        (void) state;
        assert_false(pool_config_has_subnet(&netns, &s));
}

static void test_has_subnet_top_of_space(void **state) {
        PoolConfig c = { .base = IPV4(255, 255, 255, 248), .prefix_len = 30, .count = 2 };
        Subnet s = { .base = IPV4(255, 255, 255, 252), .prefix_len = 30 };

        (void) state;
        assert_true(pool_config_has_subnet(&c, &s));
}

/* subnet_addr(), subnet_broadcast(), subnet_size() */

static void test_subnet_30(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 128), .prefix_len = 30 };

        (void) state;
        assert_int_equal(subnet_addr(&s, 0), IPV4(100, 115, 92, 129));
        assert_int_equal(subnet_addr(&s, 1), IPV4(100, 115, 92, 130));
        assert_int_equal(subnet_broadcast(&s), IPV4(100, 115, 92, 131));
        assert_int_equal(subnet_size(&s), 4);
}

static void test_subnet_28(void **state) {
        Subnet s = { .base = IPV4(100, 115, 92, 192), .prefix_len = 28 };

        (void) state;
        assert_int_equal(subnet_addr(&s, 0), IPV4(100, 115, 92, 193));
        assert_int_equal(subnet_addr(&s, 13), IPV4(100, 115, 92, 206));
        assert_int_equal(subnet_broadcast(&s), IPV4(100, 115, 92, 207));
        assert_int_equal(subnet_size(&s), 16);
}

static void test_subnet_29(void **state) {
        Subnet s = { .base = IPV4(100, 115, 93, 248), .prefix_len = 29 };

        (void) state;
        assert_int_equal(subnet_addr(&s, 0), IPV4(100, 115, 93, 249));
        assert_int_equal(subnet_broadcast(&s), IPV4(100, 115, 93, 255));
        assert_int_equal(subnet_size(&s), 8);
}

static void test_subnet_8(void **state) {
        Subnet s = { .base = IPV4(10, 0, 0, 0), .prefix_len = 8 };

        (void) state;
        assert_int_equal(subnet_broadcast(&s), IPV4(10, 255, 255, 255));
        assert_int_equal(subnet_size(&s), 1u << 24);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_multi),
                cmocka_unit_test(test_parse_single),
                cmocka_unit_test(test_parse_prefix_8),
                cmocka_unit_test(test_parse_count_max),
                cmocka_unit_test(test_parse_ends_at_top_of_space),
                cmocka_unit_test(test_parse_to_string_round_trip),
                cmocka_unit_test(test_parse_null),
                cmocka_unit_test(test_parse_empty),
                cmocka_unit_test(test_parse_no_slash),
                cmocka_unit_test(test_parse_bad_address),
                cmocka_unit_test(test_parse_address_octet_too_big),
                cmocka_unit_test(test_parse_address_too_long),
                cmocka_unit_test(test_parse_misaligned_base),
                cmocka_unit_test(test_parse_misaligned_base_single),
                cmocka_unit_test(test_parse_prefix_7),
                cmocka_unit_test(test_parse_prefix_0),
                cmocka_unit_test(test_parse_prefix_31),
                cmocka_unit_test(test_parse_prefix_32),
                cmocka_unit_test(test_parse_prefix_33),
                cmocka_unit_test(test_parse_prefix_huge),
                cmocka_unit_test(test_parse_prefix_missing),
                cmocka_unit_test(test_parse_prefix_missing_with_count),
                cmocka_unit_test(test_parse_prefix_signed),
                cmocka_unit_test(test_parse_prefix_space),
                cmocka_unit_test(test_parse_count_zero),
                cmocka_unit_test(test_parse_count_too_big),
                cmocka_unit_test(test_parse_count_overflows_ulong),
                cmocka_unit_test(test_parse_count_missing),
                cmocka_unit_test(test_parse_count_negative),
                cmocka_unit_test(test_parse_count_space),
                cmocka_unit_test(test_parse_trailing_letter),
                cmocka_unit_test(test_parse_trailing_space),
                cmocka_unit_test(test_parse_trailing_after_prefix),
                cmocka_unit_test(test_parse_double_count),
                cmocka_unit_test(test_parse_uppercase_x),
                cmocka_unit_test(test_parse_wraps),
                cmocka_unit_test(test_parse_wraps_large_count),
                cmocka_unit_test(test_config_first_last),
                cmocka_unit_test(test_config_validate_ok),
                cmocka_unit_test(test_kind_to_string),
                cmocka_unit_test(test_layout_default),
                cmocka_unit_test(test_layout_default_validates),
                cmocka_unit_test(test_layout_default_tiles_the_23),
                cmocka_unit_test(test_layout_moved),
                cmocka_unit_test(test_layout_unaligned_base_24),
                cmocka_unit_test(test_layout_unaligned_base_low_bits),
                cmocka_unit_test(test_layout_netns_overlaps_pluginvm),
                cmocka_unit_test(test_layout_netns_overlaps_termina_tail),
                cmocka_unit_test(test_layout_netns_overlaps_one_subnet),
                cmocka_unit_test(test_layout_netns_covers_everything),
                cmocka_unit_test(test_layout_netns_adjacent_is_not_overlap),
                cmocka_unit_test(test_layout_netns_elsewhere),
                cmocka_unit_test(test_layout_invalid_pool),
                cmocka_unit_test(test_new_invalid_config),
                cmocka_unit_test(test_new_empty),
                cmocka_unit_test(test_free_null),
                cmocka_unit_test(test_allocate_lowest_first),
                cmocka_unit_test(test_allocate_lowest_skips_taken),
                cmocka_unit_test(test_allocate_exact_index),
                cmocka_unit_test(test_allocate_exact_first),
                cmocka_unit_test(test_allocate_exact_last),
                cmocka_unit_test(test_allocate_exact_taken),
                cmocka_unit_test(test_allocate_exact_beyond),
                cmocka_unit_test(test_allocate_exact_uint32_max),
                cmocka_unit_test(test_allocate_full),
                cmocka_unit_test(test_allocate_single_subnet_pool),
                cmocka_unit_test(test_allocate_count_64),
                cmocka_unit_test(test_allocate_count_65),
                cmocka_unit_test(test_allocate_count_70),
                cmocka_unit_test(test_allocate_count_1000),
                cmocka_unit_test(test_allocate_count_max),
                cmocka_unit_test(test_allocate_count_70_exact_tail),
                cmocka_unit_test(test_allocate_prefix_28),
                cmocka_unit_test(test_allocate_at_top_of_space),
                cmocka_unit_test(test_release),
                cmocka_unit_test(test_release_twice),
                cmocka_unit_test(test_release_never_allocated),
                cmocka_unit_test(test_release_foreign_subnet),
                cmocka_unit_test(test_release_misaligned),
                cmocka_unit_test(test_release_wrong_prefix),
                cmocka_unit_test(test_release_reuses_slot),
                cmocka_unit_test(test_release_then_exact),
                cmocka_unit_test(test_index_of_first_and_last),
                cmocka_unit_test(test_index_of_matches_allocate),
                cmocka_unit_test(test_index_of_misaligned),
                cmocka_unit_test(test_index_of_wrong_prefix),
                cmocka_unit_test(test_index_of_below),
                cmocka_unit_test(test_index_of_above),
                cmocka_unit_test(test_has_subnet_first),
                cmocka_unit_test(test_has_subnet_middle),
                cmocka_unit_test(test_has_subnet_last),
                cmocka_unit_test(test_has_subnet_misaligned),
                cmocka_unit_test(test_has_subnet_misaligned_last),
                cmocka_unit_test(test_has_subnet_shorter_prefix),
                cmocka_unit_test(test_has_subnet_longer_prefix),
                cmocka_unit_test(test_has_subnet_below),
                cmocka_unit_test(test_has_subnet_just_past_end),
                cmocka_unit_test(test_has_subnet_far_away),
                cmocka_unit_test(test_has_subnet_top_of_space),
                cmocka_unit_test(test_subnet_30),
                cmocka_unit_test(test_subnet_28),
                cmocka_unit_test(test_subnet_29),
                cmocka_unit_test(test_subnet_8),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
