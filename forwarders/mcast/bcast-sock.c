/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The broadcast forwarder's socket (reference §8.3): one AF_PACKET SOCK_DGRAM socket for
 * IPv4, opened with CAP_NET_RAW before the sandbox and bound to no interface, so that links
 * coming later need no privilege. What it passes is decided in the kernel by a classic BPF
 * program, rebuilt whenever the set of links changes:
 *
 *   pkttype == PACKET_BROADCAST        a broadcast frame received from the wire; neither a
 *                                      frame this host sends nor the copy of its own
 *                                      broadcast the stack loops back (PACKET_LOOPBACK)
 *   ifindex in { links carrying broadcast }
 *   IPv4, protocol UDP, not a fragment (MF clear, offset 0)
 *   source and destination port >= 1024
 *
 * so that nothing else wakes mcastd up; bcast_parse() then checks every field again. A
 * guest's copy goes out on the same socket, as an Ethernet broadcast frame on the guest's
 * link carrying the rewritten IP packet: the LAN sender's source address stays (the guest
 * answers it), and the host's own stack never sees the copy.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mcastd.h"

#define RX_BUFFER_SIZE (1024 * 1024)
#define FILTER_MAX (17 + MCAST_LINKS_MAX)

struct BcastSock {
        Mcastd *m;
        int fd;
        sd_event_source *io;
};

static uint8_t rx_buffer[BCAST_PACKET_MAX];

static struct sock_filter stmt(uint16_t code, uint32_t k) {
        return (struct sock_filter) BPF_STMT(code, k);
}

static struct sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
        return (struct sock_filter) BPF_JUMP(code, k, jt, jf);
}

/* The filter of the header comment for these links; an empty set rejects everything. */
static size_t filter_build(const int *ifindexes, size_t n, struct sock_filter *prog) {
        size_t i = 0, reject;

        if (n == 0) {
                prog[i++] = stmt(BPF_RET | BPF_K, 0);
                return i;
        }
        /* 3 to load and check the type and load the ifindex, n to compare it, 12 to check
         * the headers, "ret accept", then "ret 0": jumps count what they skip. */
        reject = 3 + n + 12 + 1;
#define TO_REJECT(from) ((uint8_t) (reject - (from) - 1))
        prog[i++] = stmt(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_AD_OFF + SKF_AD_PKTTYPE));
        prog[i] = jump(BPF_JMP | BPF_JEQ | BPF_K, PACKET_BROADCAST, 0, TO_REJECT(i));
        i++;
        prog[i++] = stmt(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_AD_OFF + SKF_AD_IFINDEX));
        for (size_t k = 0; k < n; k++, i++)
                prog[i] = jump(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t) ifindexes[k],
                               (uint8_t) (n - k - 1), k + 1 == n ? TO_REJECT(i) : 0);
        prog[i++] = stmt(BPF_LD | BPF_B | BPF_ABS, 0);                 /* version, IHL */
        prog[i++] = stmt(BPF_ALU | BPF_AND | BPF_K, 0xf0);
        prog[i] = jump(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, TO_REJECT(i));
        i++;
        prog[i++] = stmt(BPF_LD | BPF_B | BPF_ABS, 9);                 /* protocol */
        prog[i] = jump(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, TO_REJECT(i));
        i++;
        prog[i++] = stmt(BPF_LD | BPF_H | BPF_ABS, 6);                 /* flags, offset */
        prog[i] = jump(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, TO_REJECT(i), 0);
        i++;
        prog[i++] = stmt(BPF_LDX | BPF_B | BPF_MSH, 0);                /* X = header length */
        prog[i++] = stmt(BPF_LD | BPF_H | BPF_IND, 0);                 /* source port */
        prog[i] = jump(BPF_JMP | BPF_JGE | BPF_K, BCAST_PORT_MIN, 0, TO_REJECT(i));
        i++;
        prog[i++] = stmt(BPF_LD | BPF_H | BPF_IND, 2);                 /* destination port */
        prog[i] = jump(BPF_JMP | BPF_JGE | BPF_K, BCAST_PORT_MIN, 0, TO_REJECT(i));
        i++;
#undef TO_REJECT
        prog[i++] = stmt(BPF_RET | BPF_K, BCAST_PACKET_MAX);
        prog[i++] = stmt(BPF_RET | BPF_K, 0);
        return i;
}

int bcast_sock_set_links(BcastSock *b, const int *ifindexes, size_t n) {
        struct sock_filter prog[FILTER_MAX];
        struct sock_fprog fprog = { .filter = prog };

        if (n > MCAST_LINKS_MAX)
                return -E2BIG;
        fprog.len = (unsigned short) filter_build(ifindexes, n, prog);
        return RET_NERRNO(setsockopt(b->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog));
}

/* Read one packet (a McastdReceiveFn). */
static int bcast_receive(int fd, void *userdata, McastInput *ret) {
        struct sockaddr_ll from = {};
        union {
                char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
                struct cmsghdr align;
        } control;
        struct msghdr msg;
        unsigned flags = 0;
        ssize_t n;

        (void) userdata;
        n = mcastd_recvmsg(fd, rx_buffer, sizeof rx_buffer, &from, sizeof from, &control,
                           sizeof control, &msg);
        if (n < 0)
                return (int) n;
        /* The filter passes broadcast frames only; outgoing ones never, but say it twice. */
        if (from.sll_pkttype == PACKET_OUTGOING || from.sll_ifindex <= 0)
                return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
                        struct tpacket_auxdata aux;

                        memcpy(&aux, CMSG_DATA(c), sizeof aux);
                        /* A VLAN-tagged frame belongs to another segment than the link's. */
                        if (aux.tp_status & TP_STATUS_VLAN_VALID)
                                return 0;
                        if (aux.tp_status & TP_STATUS_CSUMNOTREADY)
                                flags |= BCAST_F_CSUM_NOT_READY;
                }
        *ret = (McastInput) { .ifindex = from.sll_ifindex, .proto = MCAST_PROTO_BCAST,
                              .family = AF_INET, .bcast_flags = flags, .data = rx_buffer,
                              .len = (size_t) n };
        return (msg.msg_flags & MSG_TRUNC) ? -EMSGSIZE : 1;
}

static int on_bcast_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        BcastSock *b = userdata;

        (void) s;
        (void) revents;
        mcastd_receive(b->m, fd, bcast_receive, b);
        return 0;
}

int bcast_sock_open(Mcastd *m, BcastSock **ret) {
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
        int one = 1, size = RX_BUFFER_SIZE, r;
        BcastSock *b;

        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        *b = (BcastSock) { .m = m };
        /* Protocol 0: nothing arrives until the filter is in place and bind() names IPv4. */
        b->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (b->fd < 0) {
                r = -errno;
                goto fail;
        }
        r = bcast_sock_set_links(b, NULL, 0);
        if (r >= 0)
                r = RET_NERRNO(setsockopt(b->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one));
        if (r >= 0)
                r = RET_NERRNO(setsockopt(b->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
                                          sizeof one));
        if (r >= 0 && setsockopt(b->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                (void) setsockopt(b->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (r >= 0)
                r = RET_NERRNO(bind(b->fd, (struct sockaddr *) &sll, sizeof sll));
        if (r >= 0)
                r = sd_event_add_io(m->event, &b->io, b->fd, EPOLLIN, on_bcast_readable, b);
        if (r < 0)
                goto fail;
        *ret = b;
        return 0;
fail:
        bcast_sock_free(b);
        return r;
}

BcastSock *bcast_sock_free(BcastSock *b) {
        if (!b)
                return NULL;
        sd_event_source_disable_unref(b->io);
        safe_close(b->fd);
        free(b);
        return NULL;
}

int bcast_sock_send(BcastSock *b, int ifindex, const uint8_t *pkt, size_t len) {
        struct sockaddr_ll to = {
                .sll_family = AF_PACKET,
                .sll_protocol = htons(ETH_P_IP),
                .sll_ifindex = ifindex,
                .sll_halen = ETH_ALEN,
                .sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
        };
        ssize_t n = sendto(b->fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *) &to, sizeof to);

        return n < 0 ? -errno : 0;
}
