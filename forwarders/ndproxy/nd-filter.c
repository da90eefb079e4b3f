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

/* Per address: its four words against M_TARGET.. M_TARGET + 3, equal -> DROP, else on to
 * the next (9 instructions), with @lead more words compared first (the ingress link). */
static size_t put_match(struct sock_filter *f, size_t n, const uint32_t *lead, size_t n_lead,
                        const struct in6_addr *a) {
        uint32_t want[5];
        size_t words = n_lead + 4;

        for (size_t i = 0; i < n_lead; i++)
                want[i] = lead[i];
        for (size_t i = 0; i < 4; i++)
                want[n_lead + i] = target_word(a, i);
        for (size_t i = 0; i < words; i++) {
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_MEM,
                                                            (uint32_t) (M_TARGET + 4 - words + i)));
                n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, want[i], 0,
                                                            (uint8_t) (2 * (words - i) - 1)));
        }
        return put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0));
}

/* Load the 16 bytes at @off into M_TARGET.. M_TARGET + 3. */
static size_t put_load_address(struct sock_filter *f, size_t n, uint32_t off) {
        for (uint32_t i = 0; i < 4; i++) {
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off + 4 * i));
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_ST, M_TARGET + i));
        }
        return n;
}

/* See nd-socket.h for what it keeps. Offsets are from the Ethernet header (SOCK_RAW). Jumps
 * are forward and conditional ones short: the drop the first checks share sits right after
 * them, and each section ends in its own accept. */
size_t nd_filter_build(const NdKernelAnswered *skips, size_t n_skips,
                       const struct in6_addr *hosts, size_t n_hosts, struct sock_filter *f) {
        const uint32_t target = ND_ICMP6_OFF + 8, dst = ND_IP6_OFF + 24;
        size_t n = 0, to_na;

        if (n_skips > ND_FILTER_SKIPS_MAX)
                n_skips = ND_FILTER_SKIPS_MAX;
        if (n_hosts > ND_FILTER_HOSTS_MAX)
                n_hosts = ND_FILTER_HOSTS_MAX;
        /* 0-8: the frame is one of ours to read; a failed check jumps to DROP (15). */
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                    (uint32_t) (SKF_AD_OFF + SKF_AD_PKTTYPE)));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 13, 0));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12));  /* EtherType */
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 11));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_IP6_OFF + 6));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 9));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_ICMP6_OFF));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, ND_ROUTER_SOLICIT, 0, 7));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, ND_NEIGHBOR_ADVERT, 6, 0));
        /* 9-14: an NS long enough to hold its target goes to the NS section (16), a cut one
         * is accepted (for the parser to count), RS, RA and NA go to the NA section. */
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ND_NEIGHBOR_SOLICIT, 1, 0));
        to_na = n;
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_JMP | BPF_JA, 0));   /* set below */
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0));
        n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, target + 16, 1, 0));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, FILTER_ACCEPT));
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_JMP | BPF_JA, 1));
        /* 15 */
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0));

        /* The NS section: the ingress link and the target, then per kernel-answered
         * address, link and target equal -> DROP. */
        if (n_skips > 0) {
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                            (uint32_t) (SKF_AD_OFF + SKF_AD_IFINDEX)));
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_ST, M_IFINDEX));
                n = put_load_address(f, n, target);
                for (size_t k = 0; k < n_skips; k++) {
                        uint32_t link = (uint32_t) skips[k].uplink;
                        n = put_match(f, n, &link, 1, &skips[k].addr);
                }
        }
        n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, FILTER_ACCEPT));

        /* The NA section: an NA to one of the host's own addresses is the host's business
         * (the proxy would drop it: ND_DROP_FOR_HOST). Every frame that gets here is long
         * enough to hold its IPv6 destination (its ICMPv6 type was read). */
        f[to_na].k = (uint32_t) (n - to_na - 1);
        if (n_hosts > 0) {
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_ICMP6_OFF));
                n = put(f, n, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ND_NEIGHBOR_ADVERT, 1, 0));
                n = put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, FILTER_ACCEPT));
                n = put_load_address(f, n, dst);
                for (size_t k = 0; k < n_hosts; k++)
                        n = put_match(f, n, NULL, 0, &hosts[k]);
        }
        return put(f, n, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, FILTER_ACCEPT));
}
