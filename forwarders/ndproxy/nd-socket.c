/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/icmp6.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "macro.h"
#include "nd-packet.h"
#include "nd-socket.h"

struct NdRing {
        uint8_t *map;
        size_t size;
        unsigned head;               /* the next slot to read */
};
int nd_socket_set_filter(int fd, const NdKernelAnswered *skips, size_t n_skips,
                         const struct in6_addr *hosts, size_t n_hosts) {
        _cleanup_free_ struct sock_filter *f = calloc(ND_FILTER_LEN_MAX, sizeof *f);
        struct sock_fprog prog;

        if (!f)
                return -ENOMEM;
        prog = (struct sock_fprog) {
                .len = (unsigned short) nd_filter_build(skips, n_skips, hosts, n_hosts, f),
                .filter = f,
        };
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
                return -errno;
        return 0;
}

int nd_socket_open(int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int version = TPACKET_V2, r;

        fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IPV6));
        if (fd < 0)
                return -errno;
        /* The socket hears every IPv6 frame from socket() on: what queued before the
         * filter was attached is drained below, unread. */
        r = nd_socket_set_filter(fd, NULL, 0, NULL, 0);
        if (r < 0)
                return r;
        if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0)
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

int nd_ring_new(int fd, NdRing **ret) {
        struct tpacket_req req = {
                .tp_block_size = 2 * ND_RING_FRAME_SIZE,   /* a page: two slots a block */
                .tp_block_nr = ND_RING_FRAMES / 2,
                .tp_frame_size = ND_RING_FRAME_SIZE,
                .tp_frame_nr = ND_RING_FRAMES,
        };
        NdRing *r;

        if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0)
                return -errno;
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->size = (size_t) req.tp_block_size * req.tp_block_nr;
        r->map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (r->map == MAP_FAILED) {
                int e = -errno;
                free(r);
                return e;
        }
        *ret = r;
        return 0;
}

NdRing *nd_ring_free(NdRing *r) {
        if (!r)
                return NULL;
        (void) munmap(r->map, r->size);
        free(r);
        return NULL;
}

static struct tpacket2_hdr *slot(NdRing *r, unsigned i) {
        return (struct tpacket2_hdr *) (r->map + (size_t) i * ND_RING_FRAME_SIZE);
}

int nd_ring_next(NdRing *r, NdFrame *ret) {
        struct tpacket2_hdr *h = slot(r, r->head);
        const struct sockaddr_ll *from;
        uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
        size_t off, len;

        if (!(status & TP_STATUS_USER))
                return 0;
        /* TPACKET_ALIGN(sizeof *h), without its int mask. */
        from = (const struct sockaddr_ll *) ((uint8_t *) h + ((sizeof *h + TPACKET_ALIGNMENT - 1) /
                                                                TPACKET_ALIGNMENT * TPACKET_ALIGNMENT));
        off = h->tp_mac;
        len = h->tp_snaplen;
        /* The kernel wrote these; a slot is never read past its end all the same. */
        if (off > ND_RING_FRAME_SIZE || len > ND_RING_FRAME_SIZE - off)
                len = off > ND_RING_FRAME_SIZE ? 0 : ND_RING_FRAME_SIZE - off;
        *ret = (NdFrame) {
                .ifindex = from->sll_ifindex,
                /* A tag the kernel took off the frame (RFC 4861 knows no VLANs: the frame
                 * belongs to another network). */
                .vlan_tagged = (status & TP_STATUS_VLAN_VALID) || h->tp_vlan_tci != 0,
                .len = len,
                .data = (uint8_t *) h + (off <= ND_RING_FRAME_SIZE ? off : 0),
        };
        return 1;
}

void nd_ring_release(NdRing *r) {
        __atomic_store_n(&slot(r, r->head)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        r->head = (r->head + 1) % ND_RING_FRAMES;
}
