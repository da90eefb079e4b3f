/* SPDX-License-Identifier: BSD-3-Clause */
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>

#include "nd-filter.h"
#include "nd-packet.h"

#define FILTER_ACCEPT 0x40000
/* Scratch memory of the program: the ingress ifindex, then the NS target's four words. */
enum { M_IFINDEX, M_TARGET };

static size_t put(struct sock_filter *f, size_t n, struct sock_filter insn) {
        f[n] = insn;
        return n + 1;
}

/* The NS target's word @i as the program loads it (network order, as a number). */
static uint32_t target_word(const struct in6_addr *a, size_t i) {
        const uint8_t *b = &a->s6_addr[4 * i];
        return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
}

/* See nd-socket.h for what it keeps. Offsets are from the Ethernet header (SOCK_RAW); every
 * jump is forward and short (the returns the checks share sit right after them). */
size_t nd_filter_build(const NdKernelAnswered *skips, size_t n_skips, struct sock_filter *f) {
        const uint32_t target = ND_ICMP6_OFF + 8;
        size_t n = 0;

        if (n_skips > ND_FILTER_SKIPS_MAX)
                n_skips = ND_FILTER_SKIPS_MAX;
        /* 0-8: the frame is one of ours to read; a failed check jumps to DROP (14). */
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                    (uint32_t) (SKF_AD_OFF + SKF_AD_PKTTYPE)));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 12, 0));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12));  /* EtherType */
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 10));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_IP6_OFF + 6));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 8));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_ICMP6_OFF));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, ND_ROUTER_SOLICIT, 0, 6));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, ND_NEIGHBOR_ADVERT, 5, 0));
        /* 9-12: an NS long enough to hold its target goes on to the skips (15), else ACCEPT. */
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ND_NEIGHBOR_SOLICIT, 0, 3));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, target + 16, 0, 1));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_JMP | BPF_JA, n_skips > 0 ? 2 : 0));
        /* 13, 14 */
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, FILTER_ACCEPT));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0));
        if (n_skips == 0)
                return n;
        /* 15-24: the ingress link and the target, into scratch memory. */
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                    (uint32_t) (SKF_AD_OFF + SKF_AD_IFINDEX)));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_ST, M_IFINDEX));
        for (uint32_t i = 0; i < 4; i++) {
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, target + 4 * i));
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_ST, M_TARGET + i));
        }
        /* Per skip: all five words equal -> DROP (its own), else on to the next. */
        for (size_t k = 0; k < n_skips; k++) {
                uint32_t want[5] = { (uint32_t) skips[k].uplink };

                for (size_t i = 0; i < 4; i++)
                        want[1 + i] = target_word(&skips[k].addr, i);
                for (uint32_t i = 0; i < 5; i++) {
                        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_MEM, M_IFINDEX + i));
                        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, want[i], 0,
                                                                    (uint8_t) (9 - 2 * i)));
                }
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0));
        }
        return put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, FILTER_ACCEPT));
}
