/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "macro.h"
#include "nd-packet.h"
#include "nd-socket.h"

struct NdBatch {
        NdFrame frames[ND_BATCH_MAX];
        struct mmsghdr msgs[ND_BATCH_MAX];
        struct iovec iov[ND_BATCH_MAX];
        struct sockaddr_ll from[ND_BATCH_MAX];
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        } control[ND_BATCH_MAX];
        uint8_t data[ND_BATCH_MAX][ND_FRAME_MAX + 1];
};

/* See nd-socket.h for what it keeps. Offsets are from the Ethernet header (SOCK_RAW). */
static const struct sock_filter nd_filter[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_AD_OFF + SKF_AD_PKTTYPE)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 8, 0),
        /* 2 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                  /* EtherType */
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),
        /* 4 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_IP6_OFF + 6),       /* next header */
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 4),
        /* 6 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, ND_ICMP6_OFF),         /* ICMPv6 type */
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, ND_ROUTER_SOLICIT, 0, 2),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, ND_NEIGHBOR_ADVERT, 1, 0),
        /* 9 */ BPF_STMT(BPF_RET | BPF_K, 0x40000),
        /* 10 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

int nd_socket_open(int *ret_fd) {
        struct sock_fprog prog = {
                .len = ELEMENTSOF(nd_filter),
                .filter = (struct sock_filter *) nd_filter,
        };
        _cleanup_close_ int fd = -EBADF;
        int one = 1;

        fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IPV6));
        if (fd < 0)
                return -errno;
        /* The socket hears every IPv6 frame from socket() on: what queued before the
         * filter was attached is drained below, unread. */
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
                return -errno;
        if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0)
                return -errno;
        for (;;) {
                uint8_t junk[1];
                if (recv(fd, junk, sizeof junk, MSG_DONTWAIT | MSG_TRUNC) < 0)
                        break;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int nd_socket_membership(int fd, int ifindex, const MacAddr *group, bool join) {
        struct packet_mreq mreq = {
                .mr_ifindex = ifindex,
                .mr_type = PACKET_MR_MULTICAST,
                .mr_alen = MAC_LEN,
        };

        memcpy(mreq.mr_address, group->b, MAC_LEN);
        if (setsockopt(fd, SOL_PACKET, join ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP,
                       &mreq, sizeof mreq) < 0)
                return -errno;
        return 0;
}

int nd_socket_send(int fd, int ifindex, const uint8_t *frame, size_t len) {
        struct sockaddr_ll to = {
                .sll_family = AF_PACKET,
                .sll_protocol = htons(ETH_P_IPV6),
                .sll_ifindex = ifindex,
                .sll_halen = MAC_LEN,
        };
        ssize_t n;

        if (len < ND_ETH_HLEN)
                return -EINVAL;
        memcpy(to.sll_addr, frame, MAC_LEN);
        n = sendto(fd, frame, len, MSG_DONTWAIT, (struct sockaddr *) &to, sizeof to);
        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

NdBatch *nd_batch_new(void) {
        NdBatch *b = calloc(1, sizeof *b);

        if (!b)
                return NULL;
        for (size_t i = 0; i < ND_BATCH_MAX; i++)
                b->frames[i].data = b->data[i];
        return b;
}

NdBatch *nd_batch_free(NdBatch *b) {
        free(b);
        return NULL;
}

int nd_socket_receive(int fd, NdBatch *b, NdFrame **ret_frames) {
        int n;

        for (size_t i = 0; i < ND_BATCH_MAX; i++) {
                b->iov[i] = (struct iovec) { .iov_base = b->data[i], .iov_len = ND_FRAME_MAX + 1 };
                b->msgs[i] = (struct mmsghdr) {
                        .msg_hdr = {
                                .msg_name = &b->from[i],
                                .msg_namelen = sizeof b->from[i],
                                .msg_iov = &b->iov[i],
                                .msg_iovlen = 1,
                                .msg_control = b->control[i].buf,
                                .msg_controllen = sizeof b->control[i].buf,
                        },
                };
        }
        n = recvmmsg(fd, b->msgs, ND_BATCH_MAX, MSG_DONTWAIT, NULL);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;

        for (int i = 0; i < n; i++) {
                struct msghdr *h = &b->msgs[i].msg_hdr;
                NdFrame *f = &b->frames[i];

                *f = (NdFrame) {
                        .ifindex = b->from[i].sll_ifindex,
                        .len = b->msgs[i].msg_len,
                        .data = b->data[i],
                };
                if (h->msg_flags & MSG_TRUNC)
                        f->len = ND_FRAME_MAX + 1;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
                        struct tpacket_auxdata aux;

                        if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
                            c->cmsg_len < CMSG_LEN(sizeof aux))
                                continue;
                        memcpy(&aux, CMSG_DATA(c), sizeof aux);
                        /* A tag the kernel took off the frame (RFC 4861 knows no VLANs: the
                         * frame belongs to another network). */
                        if ((aux.tp_status & TP_STATUS_VLAN_VALID) || aux.tp_vlan_tci != 0)
                                f->vlan_tagged = true;
                }
        }
        *ret_frames = b->frames;
        return n;
}
