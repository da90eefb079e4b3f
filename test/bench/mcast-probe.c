/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mcast-probe: the traffic of bench_mcast.py, fast enough not to be what it measures.
 *
 *   mcast-probe send IFNAME RATE SECONDS [FIRST_SEQ]
 *       mDNS answers to 224.0.0.251:5353 out of IFNAME, from port 5353 with TTL 255, RATE a
 *       second for SECONDS, paced against absolute times. Each carries one A record whose
 *       name is "pb-<seq>-<CLOCK_MONOTONIC ns at sending>.local", so every datagram is
 *       distinct (a reflector that suppresses duplicates cannot shine) and says when it
 *       left. Prints {"sent": N, "seconds": S}.
 *   mcast-probe recv IFNAME MAX_SECONDS QUIET_SECONDS [FIRST_SEQ COUNT [DUMP]]
 *       joins 224.0.0.251 on IFNAME, prints {"ready": true}, then counts every "pb-<seq>-<ns>"
 *       label in what arrives (a reflector may pack several records into one datagram),
 *       of the seqs FIRST_SEQ.. FIRST_SEQ+COUNT-1 if given (stragglers of an earlier run
 *       do not count), until QUIET_SECONDS pass without one, or MAX_SECONDS in all. Prints
 *       {"received": unique seqs, "datagrams": N, "duplicates": N,
 *        "latency_us": [p50, p90, p99, max]}, and with DUMP a line "<seq> <latency ns>"
 *       per probe into that file (to pair two receivers' latencies probe by probe).
 *
 * Both run inside a network namespace (ip netns exec). The clock is the same in every
 * namespace, so a latency is a difference of two CLOCK_MONOTONIC readings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEQ_MAX (4u * 1024u * 1024u)
#define LAT_MAX (1u * 1024u * 1024u)

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int mdns_socket(const char *ifname, bool join) {
        struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(5353) };
        struct ip_mreqn mreq = { .imr_ifindex = (int) if_nametoindex(ifname) };
        int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, ttl = 255, size = 16 << 20;

        if (fd < 0 || mreq.imr_ifindex == 0)
                return -1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) < 0 ||
            setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
            bind(fd, (struct sockaddr *) &any, sizeof any) < 0)
                return -1;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (join) {
                mreq.imr_multiaddr.s_addr = htonl(0xe00000fbu);
                if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
                        return -1;
        }
        return fd;
}

/* An mDNS answer "pb-<seq>-<ns>.local A 192.0.2.1"; returns its length. */
static size_t probe_build(uint8_t *buf, uint32_t seq, uint64_t ns) {
        static const uint8_t head[12] = { 0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
        static const uint8_t tail[] = { 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 1, 0x80, 1,
                                        0, 0, 0, 120, 0, 4, 192, 0, 2, 1 };
        char label[64];
        int n = snprintf(label, sizeof label, "pb-%" PRIu32 "-%" PRIu64, seq, ns);
        size_t off = sizeof head;

        memcpy(buf, head, sizeof head);
        buf[off++] = (uint8_t) n;
        memcpy(buf + off, label, (size_t) n);
        off += (size_t) n;
        memcpy(buf + off, tail, sizeof tail);
        return off + sizeof tail;
}

static int cmd_send(const char *ifname, double rate, double seconds, uint32_t first) {
        struct sockaddr_in group = { .sin_family = AF_INET, .sin_port = htons(5353),
                                     .sin_addr.s_addr = htonl(0xe00000fbu) };
        uint64_t n = (uint64_t) (rate * seconds), sent = 0, t0;
        uint8_t buf[128];
        int fd = mdns_socket(ifname, false);

        if (fd < 0) {
                perror("mcast-probe: socket");
                return 1;
        }
        t0 = now_ns();
        for (uint64_t i = 0; i < n; i++) {
                uint64_t due = t0 + (uint64_t) ((double) i * 1e9 / rate), now = now_ns();
                size_t len;

                if (due > now + 50000) {
                        struct timespec ts = { .tv_sec = (time_t) (due / 1000000000u),
                                               .tv_nsec = (long) (due % 1000000000u) };
                        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
                }
                len = probe_build(buf, first + (uint32_t) i, now_ns());
                if (sendto(fd, buf, len, 0, (struct sockaddr *) &group, sizeof group) >= 0)
                        sent++;
        }
        printf("{\"sent\": %" PRIu64 ", \"seconds\": %.3f}\n", sent,
               (double) (now_ns() - t0) / 1e9);
        return 0;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static int cmd_recv(const char *ifname, double max_seconds, double quiet_seconds,
                    uint64_t first, uint64_t count, const char *dump_path) {
        static uint8_t seen[SEQ_MAX / 8];
        static uint64_t lat[LAT_MAX], lat_seq[LAT_MAX];
        uint64_t start, last = 0, unique = 0, datagrams = 0, dupes = 0;
        size_t n_lat = 0;
        uint8_t buf[9000];
        int fd = mdns_socket(ifname, true);

        if (fd < 0) {
                perror("mcast-probe: socket");
                return 1;
        }
        printf("{\"ready\": true}\n");
        fflush(stdout);
        start = now_ns();
        for (;;) {
                uint64_t now = now_ns();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t len;

                if ((double) (now - start) / 1e9 >= max_seconds ||
                    (last && (double) (now - last) / 1e9 >= quiet_seconds))
                        break;
                if (poll(&p, 1, 20) <= 0)
                        continue;
                len = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (len <= 0)
                        continue;
                now = now_ns();
                datagrams++;
                /* Every label "pb-<seq>-<ns>": a length byte, then the text. */
                for (ssize_t i = 0; i + 4 < len; i++) {
                        unsigned long long seq, ns;
                        char text[64];
                        size_t l = buf[i];

                        if (l < 6 || l >= sizeof text || (ssize_t) l > len - i - 1 ||
                            memcmp(buf + i + 1, "pb-", 3) != 0)
                                continue;
                        memcpy(text, buf + i + 1, l);
                        text[l] = '\0';
                        if (sscanf(text, "pb-%llu-%llu", &seq, &ns) != 2 || seq >= SEQ_MAX ||
                            seq < first || seq - first >= count)
                                continue;
                        if (seen[seq / 8] & (1u << (seq % 8))) {
                                dupes++;
                        } else {
                                seen[seq / 8] |= (uint8_t) (1u << (seq % 8));
                                unique++;
                                last = now;
                                if (n_lat < LAT_MAX && ns <= now) {
                                        lat_seq[n_lat] = seq;
                                        lat[n_lat++] = now - ns;
                                }
                        }
                        i += (ssize_t) l;
                }
        }
        if (dump_path) {
                FILE *f = fopen(dump_path, "w");

                if (!f) {
                        perror("mcast-probe: dump");
                        return 1;
                }
                for (size_t i = 0; i < n_lat; i++)
                        fprintf(f, "%" PRIu64 " %" PRIu64 "\n", lat_seq[i], lat[i]);
                fclose(f);
        }
        qsort(lat, n_lat, sizeof lat[0], cmp_u64);
#define PCT(p) (n_lat ? (double) lat[(size_t) ((double) (n_lat - 1) * (p))] / 1e3 : -1.0)
        printf("{\"received\": %" PRIu64 ", \"datagrams\": %" PRIu64 ", \"duplicates\": %" PRIu64
               ", \"latency_us\": [%.1f, %.1f, %.1f, %.1f]}\n", unique, datagrams, dupes,
               PCT(0.5), PCT(0.9), PCT(0.99), PCT(1.0));
#undef PCT
        return 0;
}

int main(int argc, char **argv) {
        if (argc >= 5 && strcmp(argv[1], "send") == 0)
                return cmd_send(argv[2], atof(argv[3]), atof(argv[4]),
                                argc >= 6 ? (uint32_t) strtoul(argv[5], NULL, 10) : 0);
        if ((argc == 5 || argc == 7 || argc == 8) && strcmp(argv[1], "recv") == 0)
                return cmd_recv(argv[2], atof(argv[3]), atof(argv[4]),
                                argc >= 7 ? strtoull(argv[5], NULL, 10) : 0,
                                argc >= 7 ? strtoull(argv[6], NULL, 10) : SEQ_MAX,
                                argc == 8 ? argv[7] : NULL);
        fprintf(stderr, "usage: mcast-probe send IFNAME RATE SECONDS [FIRST_SEQ]\n"
                        "       mcast-probe recv IFNAME MAX_SECONDS QUIET_SECONDS "
                        "[FIRST_SEQ COUNT [DUMP]]\n");
        return 2;
}
