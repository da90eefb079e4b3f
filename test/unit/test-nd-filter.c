/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ndproxyd's socket filter (nd-filter.c), run frame by frame on an interpreter of the
 * classic BPF instructions it uses, written here from the kernel's documentation
 * (Documentation/networking/filter.rst): loads from the frame in network order, its
 * length, scratch memory, the packet type and ingress ifindex the kernel supplies, forward
 * jumps, returns. A load past the end of the frame ends the program with 0, as the
 * kernel's does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "nd-filter.h"
#include "nd-frame.h"

#define UPLINK 2
#define GUEST 7
#define KEEP 0x40000u

typedef struct Skb {
        const uint8_t *data;
        size_t len;
        uint32_t pkttype;
        uint32_t ifindex;
} Skb;

static bool load(const Skb *s, uint32_t k, unsigned size, uint32_t *ret) {
        uint32_t v = 0;

        if (k >= (uint32_t) SKF_AD_OFF) {
                if (size != 4)
                        fail_msg("ancillary load of %u bytes", size);
                switch (k - (uint32_t) SKF_AD_OFF) {
                case SKF_AD_PKTTYPE:
                        *ret = s->pkttype;
                        return true;
                case SKF_AD_IFINDEX:
                        *ret = s->ifindex;
                        return true;
                default:
                        fail_msg("ancillary load %u", k - (uint32_t) SKF_AD_OFF);
                }
        }
        if (k > s->len || size > s->len - k)
                return false;
        for (unsigned i = 0; i < size; i++)
                v = v << 8 | s->data[k + i];
        *ret = v;
        return true;
}

static uint32_t run(const struct sock_filter *prog, size_t len, const Skb *s) {
        uint32_t a = 0, mem[BPF_MEMWORDS] = {};

        for (size_t pc = 0; pc < len; pc++) {
                const struct sock_filter *f = &prog[pc];

                switch (f->code) {
                case BPF_LD | BPF_W | BPF_ABS:
                case BPF_LD | BPF_H | BPF_ABS:
                case BPF_LD | BPF_B | BPF_ABS: {
                        unsigned size = BPF_SIZE(f->code) == BPF_W ? 4 : BPF_SIZE(f->code) == BPF_H ? 2 : 1;
                        if (!load(s, f->k, size, &a))
                                return 0;
                        break;
                }
                case BPF_LD | BPF_W | BPF_LEN:
                        a = (uint32_t) s->len;
                        break;
                case BPF_LD | BPF_MEM:
                        assert_in_range(f->k, 0, BPF_MEMWORDS - 1);
                        a = mem[f->k];
                        break;
                case BPF_ST:
                        assert_in_range(f->k, 0, BPF_MEMWORDS - 1);
                        mem[f->k] = a;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += f->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGE | BPF_K:
                        pc += a >= f->k ? f->jt : f->jf;
                        break;
                case BPF_JMP | BPF_JGT | BPF_K:
                        pc += a > f->k ? f->jt : f->jf;
                        break;
                case BPF_RET | BPF_K:
                        return f->k;
                default:
                        fail_msg("instruction %zu: code 0x%x", pc, f->code);
                }
                assert_true(pc + 1 <= len);
        }
        fail_msg("the program ran off its end");
        return 0;
}

static uint32_t verdict(const struct sock_filter *prog, size_t len, const TFrame *f,
                        uint32_t pkttype, uint32_t ifindex) {
        Skb s = { .data = f->b, .len = f->len, .pkttype = pkttype, .ifindex = ifindex };
        return run(prog, len, &s);
}

/* The router's NS for @target, as an uplink hears it. */
static void router_ns(TFrame *f, const char *target) {
        tf_ns(f, true);
        tf_addr_at(f->b + F_TARGET, target);
        tf_fix(f);
}

static struct sock_filter *new_prog(void) {
        struct sock_filter *p = calloc(ND_FILTER_LEN_MAX, sizeof *p);
        assert_non_null(p);
        return p;
}

/* Without skips: every RS, RA, NS and NA the host receives, nothing else. */
static void test_what_it_keeps(void **state) {
        _cleanup_free_ struct sock_filter *p = new_prog();
        size_t len = nd_filter_build(NULL, 0, NULL, 0, p);
        TFrame f;

        (void) state;
        assert_in_range(len, 1, ND_FILTER_LEN_MAX);
        tf_rs(&f, true);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, GUEST), KEEP);
        tf_ra(&f);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        router_ns(&f, "2001:db8:1::a");
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        tf_na(&f, 0x60, true);
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), KEEP);

        /* The host's own frames, another EtherType, an extension header, other ICMPv6. */
        assert_int_equal(verdict(p, len, &f, PACKET_OUTGOING, GUEST), 0);
        f.b[F_ETHERTYPE + 1] = 0x00;                   /* 0x8600 */
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), 0);
        tf_na(&f, 0x60, true);
        f.b[F_IP6_NEXT] = 0;                           /* hop-by-hop options */
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), 0);
        tf_na(&f, 0x60, true);
        for (unsigned type = 0; type < 256; type++) {
                f.b[F_ICMP_TYPE] = (uint8_t) type;
                assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST),
                                 type >= 133 && type <= 136 ? KEEP : 0);
        }
        /* Too short to hold an EtherType: a load past the end drops it. */
        f.len = 13;
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), 0);
}

/* An NS on the uplink for an address the kernel answers there stays away; the same target
 * on another link, another target, an NA for it, and a cut NS do not. */
static void test_kernel_answered_ns_stay_away(void **state) {
        const NdKernelAnswered skips[] = {
                { .uplink = UPLINK, .addr = tf_in6("2001:db8:1::a") },
                { .uplink = UPLINK, .addr = tf_in6("2001:db8:1::b") },
                { .uplink = 3, .addr = tf_in6("2001:db8:2::a") },
        };
        _cleanup_free_ struct sock_filter *p = new_prog();
        size_t len = nd_filter_build(skips, ELEMENTSOF(skips), NULL, 0, p);
        TFrame f;

        (void) state;
        assert_int_equal(len, 16 + 10 + 11 * ELEMENTSOF(skips) + 1 + 1);
        for (size_t i = 0; i < 2; i++) {
                router_ns(&f, i == 0 ? "2001:db8:1::a" : "2001:db8:1::b");
                assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), 0);
                assert_int_equal(verdict(p, len, &f, PACKET_HOST, UPLINK), 0);
                assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, 3), KEEP);
                assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, GUEST), KEEP);
        }
        router_ns(&f, "2001:db8:2::a");
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, 3), 0);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        /* Each word of the target counts. */
        for (size_t byte = 0; byte < 16; byte++) {
                router_ns(&f, "2001:db8:1::a");
                f.b[F_TARGET + byte] ^= 0x80; /* (^ 0x01 would make ::b, a skip too) */
                assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        }
        /* A DAD NS for it too (the kernel defends the address). */
        tf_dad(&f);
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::a");
        tf_fix(&f);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), 0);
        /* An NA for it is the guest's business. */
        tf_na(&f, 0x60, true);
        tf_addr_at(f.b + F_TARGET, "2001:db8:1::a");
        tf_fix(&f);
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, UPLINK), KEEP);
        /* Cut inside its target: kept, for the parser to count as malformed. */
        router_ns(&f, "2001:db8:1::a");
        f.len = F_TARGET + 15;
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        f.len = F_TARGET + 16;
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), 0);
        /* The outgoing check still comes first. */
        router_ns(&f, "2001:db8:1::c");
        assert_int_equal(verdict(p, len, &f, PACKET_OUTGOING, UPLINK), 0);
}

/* At most ND_FILTER_SKIPS_MAX: the program stays within the kernel's 4096 instructions
 * and an address past the cap is left to the proxy. */
static void test_the_cap(void **state) {
        size_t n = ND_FILTER_SKIPS_MAX + 5;
        _cleanup_free_ NdKernelAnswered *skips = calloc(n, sizeof *skips);
        struct in6_addr hosts[ND_FILTER_HOSTS_MAX + 3];
        _cleanup_free_ struct sock_filter *p = new_prog();
        size_t len;
        TFrame f;

        (void) state;
        assert_non_null(skips);
        for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
                hosts[i] = tf_in6("fe80::");
                hosts[i].s6_addr[15] = (uint8_t) i;
        }
        for (size_t i = 0; i < n; i++) {
                skips[i].uplink = UPLINK;
                skips[i].addr = tf_in6("2001:db8:1::");
                skips[i].addr.s6_addr[14] = (uint8_t) (i >> 8);
                skips[i].addr.s6_addr[15] = (uint8_t) i;
        }
        len = nd_filter_build(skips, n, hosts, ND_FILTER_HOSTS_MAX + 3, p);
        assert_int_equal(len, ND_FILTER_LEN_MAX);
        assert_true(len <= BPF_MAXINSNS);
        router_ns(&f, "2001:db8:1::");
        f.b[F_TARGET + 14] = (uint8_t) ((ND_FILTER_SKIPS_MAX - 1) >> 8);
        f.b[F_TARGET + 15] = (uint8_t) (ND_FILTER_SKIPS_MAX - 1);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), 0);
        f.b[F_TARGET + 14] = (uint8_t) (ND_FILTER_SKIPS_MAX >> 8);
        f.b[F_TARGET + 15] = (uint8_t) ND_FILTER_SKIPS_MAX;
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        /* The last host address held, and the first past the cap. */
        tf_na(&f, 0x60, true);
        memcpy(f.b + F_IP6_DST, &hosts[ND_FILTER_HOSTS_MAX - 1], 16);
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), 0);
        memcpy(f.b + F_IP6_DST, &hosts[ND_FILTER_HOSTS_MAX], 16);
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), KEEP);
}

/* An NA to one of the host's addresses stays away (the host's kernel takes it); an NA to
 * anyone else, an NS to the host (the proxy answers guests asking for the host's uplink
 * address), and an RS or RA do not. Both sections work together. */
static void test_nas_to_the_host_stay_away(void **state) {
        const struct in6_addr hosts[] = { tf_in6("fe80::1"), tf_in6("2001:db8:1::5") };
        const NdKernelAnswered skips[] = { { .uplink = UPLINK, .addr = tf_in6("2001:db8:1::a") } };
        _cleanup_free_ struct sock_filter *p = new_prog();
        size_t len = nd_filter_build(skips, ELEMENTSOF(skips), hosts, ELEMENTSOF(hosts), p);
        TFrame f;

        (void) state;
        assert_int_equal(len, 16 + 10 + 11 + 1 + 11 + 9 * ELEMENTSOF(hosts) + 1);
        for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
                tf_na(&f, 0x60, true);
                memcpy(f.b + F_IP6_DST, &hosts[i], 16);
                tf_fix(&f);
                assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), 0);
                assert_int_equal(verdict(p, len, &f, PACKET_HOST, UPLINK), 0);
                /* Each word counts. */
                for (size_t byte = 0; byte < 16; byte += 5) {
                        f.b[F_IP6_DST + byte] ^= 0x40;
                        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), KEEP);
                        f.b[F_IP6_DST + byte] ^= 0x40;
                }
                /* An NS to the host is the proxy's to answer. */
                tf_ns(&f, true);
                memcpy(f.b + F_IP6_DST, &hosts[i], 16);
                tf_fix(&f);
                assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), KEEP);
        }
        tf_na(&f, 0x60, true);
        tf_addr_at(f.b + F_IP6_DST, "2001:db8:1::1");
        tf_fix(&f);
        assert_int_equal(verdict(p, len, &f, PACKET_HOST, GUEST), KEEP);
        tf_rs(&f, true);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, GUEST), KEEP);
        tf_ra(&f);
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        /* The NS section still does its part. */
        router_ns(&f, "2001:db8:1::a");
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), 0);
        router_ns(&f, "2001:db8:1::b");
        assert_int_equal(verdict(p, len, &f, PACKET_MULTICAST, UPLINK), KEEP);
        assert_int_equal(verdict(p, len, &f, PACKET_OUTGOING, UPLINK), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_what_it_keeps),
                cmocka_unit_test(test_kernel_answered_ns_stay_away),
                cmocka_unit_test(test_nas_to_the_host_stay_away),
                cmocka_unit_test(test_the_cap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
