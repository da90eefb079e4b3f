/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * patchpanel-floor: the kernel's floor under the three operations users time
 * (ConnectNamespace, ModifyPortRule, GetTrafficCounters): one process doing exactly the
 * kernel operations each of them needs, through the fastest interface the kernel offers
 * (raw rtnetlink and nfnetlink messages, several per sendmsg() where the kernel takes
 * them so; nftables elements in one binary batch), with no D-Bus, no IPC and no text.
 * What patchpanel spends above these numbers is its own.
 *
 * Theory of operation, in order:
 *
 *   1. unshare a network namespace of its own, the "host"; each client is a child process
 *      that unshares one more and sleeps. The root namespace is never touched; everything
 *      goes when this process ends (the children die with it: PR_SET_PDEATHSIG).
 *   2. install patchpanel's own tables in the host, with the helper's fw_tables_replace()
 *      (untimed). The sets, maps and the chains bound to them are the daemon's, so the
 *      kernel does the same work per element as under the daemon; only the way elements
 *      get there differs.
 *   3. connect, per client, stage by stage (each timed):
 *        netns   a handle on the client's netns from its pidfd (PIDFD_GET_NET_NAMESPACE,
 *                else setns() to it and open its /proc file), then setns() in, an
 *                rtnetlink socket there, setns() home;
 *        veth    one RTM_NEWLINK: the pair, the peer born in the client's netns, both ends
 *                in the daemon's link group; NLM_F_ECHO returns both ifindexes;
 *        sysctl  disable_ipv6 on the host end, through /proc (rtnetlink has no way to set
 *                it: an IFLA_INET6_CONF in IFLA_AF_SPEC is refused with EINVAL);
 *        addr    host end: address, up; client: address, up, default route; one sendmsg
 *                per namespace, all acknowledgements read after both;
 *        nft     the guest's elements in guest_mark, guest_source, guest_ifs, guest_src4,
 *                guest_src6 (7 elements) in one nftables batch;
 *   4. disconnect, per client: one RTM_DELLINK of the host end (the peer, its address and
 *      its route go with it), then one batch deleting the 7 elements;
 *   5. port rules: at each count N, N ACCESS elements (access) and N FORWARDING elements
 *      (port_fwd) in place, one element added then deleted, each its own batch;
 *   6. counters: the counters' sets (patchpanel_acct rx and tx, a counter per element)
 *      filled with as many elements as the benchmark's daemon had, then dumped and
 *      summed per interface and source, as GetTrafficCounters answers.
 *
 * Two what-ifs for the rewrite, off by default: --burst B connects B clients with their
 * elements in one batch and tears them down as one link group (what batching queued
 * requests could reach), and --sources interval puts back the anti-spoofing interval sets
 * the daemon had before issue 14 (see interval_sources_text).
 *
 * Every part checks the kernel's state afterwards (untimed) and fails the run if it is not
 * what it must be: a floor that measured nothing would be worse than none.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <nftables/libnftables.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "errbuf.h"
#include "firewall.h"
#include "fwmark.h"
#include "ifname.h"
#include "link.h"
#include "macro.h"

#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)
#endif

#define CLIENTS_MAX 1024             /* the /30s of 100.115.96.0/20, as the benchmark's pool */
#define POOL_BASE UINT32_C(0x64736000) /* 100.115.96.0 */
#define LEVELS_MAX 8
#define RULE_IFNAME "eth0"           /* the port rules of bench_firewall.py */
#define FIRST_PORT 1024
#define PROBE_PORT 40000
#define FWD_DST UINT32_C(0x64735c82) /* 100.115.92.130 */
#define LOAD_CHUNK 512               /* elements per preload batch */
#define IFNAME_KEY 16                /* nftables' ifname: IFNAMSIZ bytes, zero-padded */

static void die(const char *format, ...) _printf_(1, 2) _noreturn_;

static void die(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        fputs("patchpanel-floor: ", stderr);
        vfprintf(stderr, format, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(EXIT_FAILURE);
}

/* Say why an operation on one client failed; return r, a negative errno. */
static int client_error(const char *ifname, int r, const char *what) {
        fprintf(stderr, "patchpanel-floor: %s: cannot %s: %s\n", ifname, what, strerror(-r));
        return r;
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static double ms_since(uint64_t t0, uint64_t t1) {
        return (double) (t1 - t0) / 1e6;
}

/* ---- samples ----------------------------------------------------------------------------- */

typedef struct Series {
        const char *name;
        double *v;
        size_t n, cap;
} Series;

static void series_add(Series *s, double x) {
        if (s->n == s->cap) {
                size_t want = s->cap ? s->cap * 2 : 64;
                double *grown = reallocarray(s->v, want, sizeof *grown);

                if (!grown)
                        die("out of memory");
                s->v = grown;
                s->cap = want;
        }
        s->v[s->n++] = x;
}

static int double_cmp(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* The q-quantile of v[lo..hi), linear between the two nearest ranks (Python's
 * statistics.quantiles(method="inclusive"), which the benchmarks use). */
static double quantile(const double *v, size_t lo, size_t hi, double q) {
        size_t n = hi - lo;
        _cleanup_free_ double *s = NULL;
        double pos, frac;
        size_t i;

        if (n == 0)
                return NAN;
        s = malloc(n * sizeof *s);
        if (!s)
                die("out of memory");
        memcpy(s, v + lo, n * sizeof *s);
        qsort(s, n, sizeof *s, double_cmp);
        pos = q * (double) (n - 1);
        i = (size_t) pos;
        frac = pos - (double) i;
        return i + 1 < n ? s[i] + (s[i + 1] - s[i]) * frac : s[i];
}

static double series_median(const Series *s) {
        return quantile(s->v, 0, s->n, 0.5);
}

static double series_p90(const Series *s) {
        return quantile(s->v, 0, s->n, 0.9);
}

static double series_mean(const Series *s) {
        double sum = 0;

        for (size_t i = 0; i < s->n; i++)
                sum += s->v[i];
        return s->n ? sum / (double) s->n : NAN;
}

static void series_print(const Series *s) {
        printf("  %-26s %8.3f %8.3f %8.3f %6zu\n", s->name, series_median(s), series_p90(s),
               series_mean(s), s->n);
}

static void json_num(FILE *f, double x) {
        if (isnan(x))
                fputs("null", f);
        else
                fprintf(f, "%.4f", x);
}

static void series_json(FILE *f, const Series *s) {
        fprintf(f, "{\"n\": %zu, \"median\": ", s->n);
        json_num(f, series_median(s));
        fputs(", \"p90\": ", f);
        json_num(f, series_p90(s));
        fputs(", \"mean\": ", f);
        json_num(f, series_mean(s));
        fputs("}", f);
}

static void series_free(Series *s) {
        free(s->v);
        *s = (Series) { .name = s->name };
}

/* ---- netlink ----------------------------------------------------------------------------- */

typedef struct Nl {
        struct mnl_socket *sk;
        uint32_t portid;
        uint32_t seq;
} Nl;

static int netlink_open(Nl *nl, int bus) {
        int one = 1;

        nl->sk = mnl_socket_open2(bus, SOCK_CLOEXEC);
        if (!nl->sk)
                return -errno;
        if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                mnl_socket_close(nl->sk);
                nl->sk = NULL;
                return r;
        }
        /* Errors carry only the header back, not the whole request. */
        (void) mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof one);
        (void) mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof one);
        nl->portid = mnl_socket_get_portid(nl->sk);
        nl->seq = (uint32_t) now_ns();
        if (bus == NETLINK_NETFILTER) {
                /* Room for a batch of many guests in one sendmsg(), and for its acks. */
                int size = 8 << 20;
                int fd = mnl_socket_get_fd(nl->sk);
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        }
        return 0;
}

static void netlink_close(Nl *nl) {
        if (nl->sk)
                mnl_socket_close(nl->sk);
        nl->sk = NULL;
}

static int nl_send(Nl *nl, const void *buf, size_t len) {
        ssize_t n = mnl_socket_sendto(nl->sk, buf, len);

        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

typedef int (*nl_msg_fn)(const struct nlmsghdr *nlh, void *userdata);

/*
 * Read answers to the requests numbered first_seq..first_seq+n-1 (each with NLM_F_ACK, or a
 * dump ending in NLMSG_DONE) until every one is answered; anything else of theirs (an echo,
 * a dump's parts) goes to fn. Return: 0, or the first error the kernel reported.
 */
static int nl_wait(Nl *nl, uint32_t first_seq, unsigned n, nl_msg_fn fn, void *userdata) {
        static char buf[65536] __attribute__((aligned(NLMSG_ALIGNTO)));
        unsigned answered = 0;
        int r = 0;

        while (answered < n) {
                ssize_t len = mnl_socket_recvfrom(nl->sk, buf, sizeof buf);
                int left;

                if (len < 0)
                        return -errno;
                left = (int) len;
                for (const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
                     mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
                        if (nlh->nlmsg_seq - first_seq >= n)
                                continue; /* not ours: an answer to something earlier */
                        if (nlh->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                                if (e->error < 0 && r == 0)
                                        r = e->error;
                                answered++;
                        } else if (nlh->nlmsg_type == NLMSG_DONE) {
                                const int *e = mnl_nlmsg_get_payload(nlh);
                                if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof *e) && *e < 0 && r == 0)
                                        r = *e;
                                answered++;
                        } else if (fn) {
                                int k = fn(nlh, userdata);
                                if (k < 0 && r == 0)
                                        r = k;
                        }
                }
        }
        return r;
}

/* A buffer of several netlink messages sent in one sendmsg(). */
typedef struct NlBuf {
        char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
        size_t len;
        uint32_t first_seq;
        unsigned n;
} NlBuf;

static struct nlmsghdr *nlbuf_put(NlBuf *b, Nl *nl, uint16_t type, uint16_t flags) {
        struct nlmsghdr *nlh;

        if (b->n == 0)
                b->first_seq = nl->seq;
        if (sizeof b->buf - b->len < 1024)
                die("netlink buffer full");
        nlh = mnl_nlmsg_put_header(b->buf + b->len);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = (uint16_t) (NLM_F_REQUEST | flags);
        nlh->nlmsg_seq = nl->seq++;
        b->n++;
        return nlh;
}

/* Close the message nlbuf_put() returned, once its attributes are in. */
static void nlbuf_end(NlBuf *b, const struct nlmsghdr *nlh) {
        b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int nlbuf_send(NlBuf *b, Nl *nl) {
        return nl_send(nl, b->buf, b->len);
}

/* ---- rtnetlink messages ------------------------------------------------------------------ */

/* mnl_attr_for_each(), without its implicit narrowing of a pointer difference. */
#define attr_for_each(a, nlh, offset)                                                          \
        for ((a) = mnl_nlmsg_get_payload_offset((nlh), (offset));                              \
             mnl_attr_ok((a), (int) ((const char *) mnl_nlmsg_get_payload_tail(nlh) -          \
                                     (const char *) (a)));                                     \
             (a) = mnl_attr_next(a))

static void put_veth_end(struct nlmsghdr *nlh, const char *name, uint8_t mac_last, int netns_fd) {
        const uint8_t mac[6] = { 0x02, 0x70, 0x66, 0x6c, (uint8_t) (netns_fd >= 0), mac_last };

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        mnl_attr_put_u32(nlh, IFLA_GROUP, PP_LINK_GROUP);
        mnl_attr_put(nlh, IFLA_ADDRESS, sizeof mac, mac);
        if (netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
}

/* The pair, down (IPv6 goes off first), the peer born in the client's netns; echoed back. */
static void msg_veth(NlBuf *b, Nl *nl, const char *host, const char *peer, int netns_fd,
                     uint8_t id) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL |
                                                             NLM_F_ECHO);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        struct nlattr *info, *data, *peer_info;
        struct ifinfomsg *peer_ifi;

        ifi->ifi_family = AF_UNSPEC;
        put_veth_end(nlh, host, id, -EBADF);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer_info = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *peer_ifi); /* appended, zeroed */
        peer_ifi->ifi_family = AF_UNSPEC;
        put_veth_end(nlh, peer, id, netns_fd);
        mnl_attr_nest_end(nlh, peer_info);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        nlbuf_end(b, nlh);
}

static void msg_addr(NlBuf *b, Nl *nl, int ifindex, uint32_t addr, unsigned prefix_len) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
        uint32_t local = htonl(addr);
        uint32_t brd = htonl(addr | (UINT32_MAX >> prefix_len));

        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (uint8_t) prefix_len;
        ifa->ifa_index = (uint32_t) ifindex;
        mnl_attr_put(nlh, IFA_LOCAL, sizeof local, &local);
        mnl_attr_put(nlh, IFA_ADDRESS, sizeof local, &local);
        mnl_attr_put(nlh, IFA_BROADCAST, sizeof brd, &brd);
        nlbuf_end(b, nlh);
}

static void msg_link_up(NlBuf *b, Nl *nl, int ifindex) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, RTM_NEWLINK, NLM_F_ACK);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        nlbuf_end(b, nlh);
}

static void msg_default_route(NlBuf *b, Nl *nl, int ifindex, uint32_t gateway) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
        uint32_t gw = htonl(gateway);

        rtm->rtm_family = AF_INET;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, sizeof gw, &gw);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) ifindex);
        nlbuf_end(b, nlh);
}

static void msg_link_del(NlBuf *b, Nl *nl, int ifindex) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, RTM_DELLINK, NLM_F_ACK);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        nlbuf_end(b, nlh);
}

/* A dump of links (RTM_GETLINK) or routes (RTM_GETROUTE) of one family; the header the
 * kernel expects for each starts with the family. */
static void msg_dump(NlBuf *b, Nl *nl, uint16_t type, uint8_t family) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, type, NLM_F_DUMP);
        size_t header = type == RTM_GETROUTE ? sizeof(struct rtmsg) : sizeof(struct ifinfomsg);
        struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, header);

        g->rtgen_family = family;
        nlbuf_end(b, nlh);
}

/* ---- nftables batches -------------------------------------------------------------------- */

typedef struct NftTx {
        char *buf;
        size_t size;
        struct mnl_nlmsg_batch *batch;
        uint32_t first_seq;
        unsigned n_acks;
} NftTx;

static void nft_tx_begin(NftTx *tx, Nl *nl) {
        if (!tx->buf) {
                tx->size = 1u << 20;
                tx->buf = malloc(tx->size);
                if (!tx->buf)
                        die("out of memory");
        }
        tx->batch = mnl_nlmsg_batch_start(tx->buf, tx->size);
        if (!tx->batch)
                die("out of memory");
        nftnl_batch_begin(mnl_nlmsg_batch_current(tx->batch), nl->seq++);
        mnl_nlmsg_batch_next(tx->batch);
        tx->first_seq = nl->seq;
        tx->n_acks = 0;
}

/* One message with every element of s (which names its table and set). */
static void nft_tx_elems(NftTx *tx, Nl *nl, uint16_t type, const struct nftnl_set *s) {
        struct nlmsghdr *nlh;
        uint16_t flags = NLM_F_ACK | (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);

        nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(tx->batch), type, NFPROTO_INET, flags,
                                    nl->seq++);
        nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *) s);
        if (!mnl_nlmsg_batch_next(tx->batch))
                die("nftables batch full");
        tx->n_acks++;
}

/* Send the batch and wait for every message's acknowledgement. */
static int nft_tx_commit(NftTx *tx, Nl *nl) {
        int r;

        nftnl_batch_end(mnl_nlmsg_batch_current(tx->batch), nl->seq++);
        mnl_nlmsg_batch_next(tx->batch);
        r = nl_send(nl, mnl_nlmsg_batch_head(tx->batch), mnl_nlmsg_batch_size(tx->batch));
        mnl_nlmsg_batch_stop(tx->batch);
        tx->batch = NULL;
        if (r < 0)
                return r;
        return nl_wait(nl, tx->first_seq, tx->n_acks, NULL, NULL);
}

static struct nftnl_set *set_new(const char *table, const char *name) {
        struct nftnl_set *s = nftnl_set_alloc();

        if (!s)
                die("out of memory");
        nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
        nftnl_set_set_str(s, NFTNL_SET_NAME, name);
        nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
        return s;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nftnl_set *, nftnl_set_free);

/* An element: key (and key_end for intervals of concatenations), data or a jump. */
static void set_elem(struct nftnl_set *s, const void *key, size_t key_len, const void *key_end,
                     const void *data, size_t data_len, const char *jump) {
        struct nftnl_set_elem *e = nftnl_set_elem_alloc();

        if (!e)
                die("out of memory");
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t) key_len);
        if (key_end)
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key_end, (uint32_t) key_len);
        if (data)
                nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, (uint32_t) data_len);
        if (jump) {
                nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t) NFT_JUMP);
                nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, jump);
        }
        nftnl_set_elem_add(s, e);
}

/* Keys in nftables' register layout: each field of a concatenation padded to 4 bytes. */
static void key_ifname(uint8_t *k, const char *name) {
        memset(k, 0, IFNAME_KEY);
        memcpy(k, name, strnlen(name, IFNAME_KEY - 1));
}

static void key_u32_host(uint8_t *k, uint32_t v) {
        memcpy(k, &v, sizeof v);
}

static void key_u32_net(uint8_t *k, uint32_t v) {
        uint32_t be = htonl(v);
        memcpy(k, &be, sizeof be);
}

static void key_u8(uint8_t *k, uint8_t v) {
        memset(k, 0, 4);
        k[0] = v;
}

static void key_port(uint8_t *k, uint16_t port) {
        uint16_t be = htons(port);

        memset(k, 0, 4);
        memcpy(k, &be, sizeof be);
}

/* ---- the floor's state ------------------------------------------------------------------- */

typedef struct Client {
        pid_t pid;
        int pidfd;
        unsigned id;
        char host[IFNAMSIZ], peer[IFNAMSIZ];
        uint32_t host_addr, peer_addr;
        int host_ifindex, peer_ifindex;
        bool connected;
} Client;

typedef struct Floor {
        int host_netns_fd;
        Nl rt;      /* rtnetlink in the host */
        Nl nf;      /* nfnetlink in the host */
        NftTx tx;
        uint32_t guest_mark;
        char guest_chain[32];    /* source_<name>, the guest_source verdict */
        bool exact_sources;      /* the daemon's sets; false: --sources interval, the what-if */
        bool pidfd_ns_ioctl;     /* PIDFD_GET_NET_NAMESPACE works here */
        bool echo_missing;       /* the kernel did not echo RTM_NEWLINK */
} Floor;

static void floor_setns_home(const Floor *f) {
        if (setns(f->host_netns_fd, CLONE_NEWNET) < 0) {
                /* Anything done from here on would be in a client's namespace. */
                fprintf(stderr, "patchpanel-floor: cannot return to the host namespace: %m\n");
                _exit(EXIT_FAILURE);
        }
}

/* A child in a network namespace of its own, sleeping until this process ends. */
static void client_spawn(Client *c, unsigned i) {
        int ready[2];
        char byte;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0)
                die("pipe: %m");
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1 || unshare(CLONE_NEWNET) < 0)
                        _exit(EXIT_FAILURE);
                if (write(ready[1], "x", 1) != 1)
                        _exit(EXIT_FAILURE);
                for (;;)
                        pause();
        }
        close(ready[1]);
        if (read(ready[0], &byte, 1) != 1)
                die("client %u did not start", i);
        close(ready[0]);
        c->id = i;
        c->pid = pid;
        c->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (c->pidfd < 0)
                die("pidfd_open: %m");
        snprintf(c->host, sizeof c->host, "%s%u", CONNECTED_NS_HOST_PREFIX, i);
        snprintf(c->peer, sizeof c->peer, "%s%u", CONNECTED_NS_PEER_PREFIX, i);
        c->host_addr = POOL_BASE + 4 * i + 1;
        c->peer_addr = POOL_BASE + 4 * i + 2;
}

static void clients_kill(Client *cs, unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                if (cs[i].pid <= 0)
                        continue;
                (void) kill(cs[i].pid, SIGKILL);
                (void) waitpid(cs[i].pid, NULL, 0);
                safe_close(cs[i].pidfd);
                cs[i].pid = 0;
        }
}

/* ---- ConnectNamespace -------------------------------------------------------------------- */

enum {
        CONNECT_NETNS,
        CONNECT_VETH,
        CONNECT_SYSCTL,
        CONNECT_ADDR,
        CONNECT_NFT,
        CONNECT_TOTAL,
        _CONNECT_STAGE_MAX,
};

enum {
        DISCONNECT_LINK,
        DISCONNECT_NFT,
        DISCONNECT_TOTAL,
        _DISCONNECT_STAGE_MAX,
};

typedef struct ConnectResult {
        Series connect[_CONNECT_STAGE_MAX];
        Series disconnect[_DISCONNECT_STAGE_MAX];
        unsigned n;
} ConnectResult;

/* A handle on the client's netns and an rtnetlink socket inside it. */
static int client_enter(Floor *f, const Client *c, int *ret_nsfd, Nl *ret_nl) {
        _cleanup_close_ int nsfd = -EBADF;
        int r;

        if (f->pidfd_ns_ioctl) {
                nsfd = ioctl(c->pidfd, PIDFD_GET_NET_NAMESPACE, 0);
                if (nsfd < 0 && (errno == ENOTTY || errno == EINVAL))
                        f->pidfd_ns_ioctl = false; /* older kernel: the way below, from now on */
                else if (nsfd < 0)
                        return -errno;
        }
        if (nsfd >= 0) {
                if (setns(nsfd, CLONE_NEWNET) < 0)
                        return -errno;
        } else {
                if (setns(c->pidfd, CLONE_NEWNET) < 0)
                        return -errno;
                nsfd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (nsfd < 0) {
                        r = -errno;
                        floor_setns_home(f);
                        return r;
                }
        }
        r = netlink_open(ret_nl, NETLINK_ROUTE);
        floor_setns_home(f);
        if (r < 0)
                return r;
        *ret_nsfd = TAKE_FD(nsfd);
        return 0;
}

typedef struct VethEcho {
        const char *host;
        int host_ifindex, peer_ifindex;
} VethEcho;

static int veth_echo(const struct nlmsghdr *nlh, void *userdata) {
        VethEcho *v = userdata;
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a;
        const char *name = NULL;
        int link = 0;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return 0;
        attr_for_each(a, nlh, sizeof *ifi) {
                if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
                        name = mnl_attr_get_str(a);
                else if (mnl_attr_get_type(a) == IFLA_LINK && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                        link = (int) mnl_attr_get_u32(a);
        }
        if (name && strcmp(name, v->host) == 0) {
                v->host_ifindex = ifi->ifi_index;
                v->peer_ifindex = link;
        }
        return 0;
}

static int ifindex_ioctl(int sock_fd, const char *name) {
        struct ifreq ifr = {};

        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
        if (ioctl(sock_fd, SIOCGIFINDEX, &ifr) < 0)
                return -errno;
        return ifr.ifr_ifindex;
}

static int disable_ipv6(const char *ifname) {
        char path[96];
        int fd, r = 0;

        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel: nothing to do */
        if (write(fd, "1", 1) != 1)
                r = -EIO;
        close(fd);
        return r;
}

/* The guest's elements, as fw_batch_guest_add() adds them; add or delete. */
static void nft_guest(Floor *f, const Client *c, uint16_t type) {
        static const uint8_t fe80[16] = { 0xfe, 0x80 };
        static const uint8_t fe80_end[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
                                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        static const uint8_t any6[16] = {};
        _cleanup_(nftnl_set_freep) struct nftnl_set *mark = set_new(FW_TABLE, "guest_mark");
        _cleanup_(nftnl_set_freep) struct nftnl_set *source = set_new(FW_TABLE, "guest_source");
        _cleanup_(nftnl_set_freep) struct nftnl_set *ifs = set_new(FW_TABLE, "guest_ifs");
        _cleanup_(nftnl_set_freep) struct nftnl_set *src4 = set_new(FW_TABLE, "guest_src4");
        _cleanup_(nftnl_set_freep) struct nftnl_set *src6 = set_new(FW_TABLE, "guest_src6");
        bool add = type == NFT_MSG_NEWSETELEM;
        uint8_t name[IFNAME_KEY], k4[IFNAME_KEY + 4], k6[IFNAME_KEY + 16], k6_end[IFNAME_KEY + 16];
        uint8_t value[4];

        key_ifname(name, c->host);
        key_u32_host(value, f->guest_mark);
        set_elem(mark, name, sizeof name, NULL, add ? value : NULL, sizeof value, NULL);
        set_elem(source, name, sizeof name, NULL, NULL, 0, add ? f->guest_chain : NULL);
        set_elem(ifs, name, sizeof name, NULL, NULL, 0, NULL);
        memcpy(k4, name, sizeof name);
        key_u32_net(k4 + IFNAME_KEY, c->peer_addr);
        if (f->exact_sources) {
                /* As the daemon: one exact element, nothing per guest for IPv6. */
                set_elem(src4, k4, sizeof k4, NULL, NULL, 0, NULL);
                nft_tx_elems(&f->tx, &f->nf, type, mark);
                nft_tx_elems(&f->tx, &f->nf, type, source);
                nft_tx_elems(&f->tx, &f->nf, type, ifs);
                nft_tx_elems(&f->tx, &f->nf, type, src4);
                return;
        }
        /* The what-if (--sources interval): a /32 with start and end alike, two IPv6 ranges. */
        set_elem(src4, k4, sizeof k4, k4, NULL, 0, NULL);
        memcpy(k6, name, sizeof name);
        memcpy(k6_end, name, sizeof name);
        memcpy(k6 + IFNAME_KEY, fe80, 16);
        memcpy(k6_end + IFNAME_KEY, fe80_end, 16);
        set_elem(src6, k6, sizeof k6, k6_end, NULL, 0, NULL);
        memcpy(k6 + IFNAME_KEY, any6, 16);
        set_elem(src6, k6, sizeof k6, k6, NULL, 0, NULL);

        nft_tx_elems(&f->tx, &f->nf, type, mark);
        nft_tx_elems(&f->tx, &f->nf, type, source);
        nft_tx_elems(&f->tx, &f->nf, type, ifs);
        nft_tx_elems(&f->tx, &f->nf, type, src4);
        nft_tx_elems(&f->tx, &f->nf, type, src6);
}

/* One connect; with_nft false leaves the elements to a batch of the caller's (--burst). */
static int floor_connect(Floor *f, Client *c, ConnectResult *res, bool with_nft) {
        _cleanup_close_ int nsfd = -EBADF;
        Nl ns = {};
        NlBuf hb = {}, cb = {};
        VethEcho echo = { .host = c->host };
        uint64_t t[_CONNECT_STAGE_MAX + 1];
        int r;

        t[0] = now_ns();
        r = client_enter(f, c, &nsfd, &ns);
        if (r < 0)
                return client_error(c->host, r, "enter the client's netns");
        t[1] = now_ns();

        msg_veth(&hb, &f->rt, c->host, c->peer, nsfd, (uint8_t) c->id);
        r = nlbuf_send(&hb, &f->rt);
        if (r >= 0)
                r = nl_wait(&f->rt, hb.first_seq, hb.n, veth_echo, &echo);
        if (r < 0) {
                netlink_close(&ns);
                return client_error(c->host, r, "create the veth");
        }
        if (echo.host_ifindex <= 0 || echo.peer_ifindex <= 0) {
                /* No echo (a kernel before 6.3): ask for the indexes. */
                f->echo_missing = true;
                echo.host_ifindex = ifindex_ioctl(mnl_socket_get_fd(f->rt.sk), c->host);
                echo.peer_ifindex = ifindex_ioctl(mnl_socket_get_fd(ns.sk), c->peer);
        }
        c->host_ifindex = echo.host_ifindex;
        c->peer_ifindex = echo.peer_ifindex;
        c->connected = true;
        t[2] = now_ns();

        r = disable_ipv6(c->host);
        if (r < 0)
                goto fail;
        t[3] = now_ns();

        hb = (NlBuf) {};
        msg_addr(&hb, &f->rt, c->host_ifindex, c->host_addr, 30);
        msg_link_up(&hb, &f->rt, c->host_ifindex);
        msg_addr(&cb, &ns, c->peer_ifindex, c->peer_addr, 30);
        msg_link_up(&cb, &ns, c->peer_ifindex);
        msg_default_route(&cb, &ns, c->peer_ifindex, c->host_addr);
        r = nlbuf_send(&hb, &f->rt);
        if (r >= 0)
                r = nlbuf_send(&cb, &ns);
        if (r >= 0)
                r = nl_wait(&f->rt, hb.first_seq, hb.n, NULL, NULL);
        if (r >= 0)
                r = nl_wait(&ns, cb.first_seq, cb.n, NULL, NULL);
        netlink_close(&ns);
        if (r < 0)
                goto fail;
        t[4] = now_ns();
        if (!with_nft)
                return 0;

        nft_tx_begin(&f->tx, &f->nf);
        nft_guest(f, c, NFT_MSG_NEWSETELEM);
        r = nft_tx_commit(&f->tx, &f->nf);
        if (r < 0)
                goto fail;
        t[5] = now_ns();

        for (unsigned s = 0; s < CONNECT_TOTAL; s++)
                series_add(&res->connect[s], ms_since(t[s], t[s + 1]));
        series_add(&res->connect[CONNECT_TOTAL], ms_since(t[0], t[5]));
        return 0;

fail:
        client_error(c->host, r, "configure it");
        netlink_close(&ns);
        return r;
}

static int floor_disconnect(Floor *f, Client *c, ConnectResult *res) {
        NlBuf b = {};
        uint64_t t0, t1, t2;
        int r;

        t0 = now_ns();
        msg_link_del(&b, &f->rt, c->host_ifindex);
        r = nlbuf_send(&b, &f->rt);
        if (r >= 0)
                r = nl_wait(&f->rt, b.first_seq, b.n, NULL, NULL);
        if (r < 0)
                return client_error(c->host, r, "delete it");
        t1 = now_ns();
        nft_tx_begin(&f->tx, &f->nf);
        nft_guest(f, c, NFT_MSG_DELSETELEM);
        r = nft_tx_commit(&f->tx, &f->nf);
        if (r < 0)
                return client_error(c->host, r, "delete its elements");
        t2 = now_ns();
        c->connected = false;
        series_add(&res->disconnect[DISCONNECT_LINK], ms_since(t0, t1));
        series_add(&res->disconnect[DISCONNECT_NFT], ms_since(t1, t2));
        series_add(&res->disconnect[DISCONNECT_TOTAL], ms_since(t0, t2));
        return 0;
}

/* ---- checks (untimed) -------------------------------------------------------------------- */

typedef struct Count {
        const char *prefix; /* links: count names starting with it */
        unsigned n;
        uint32_t gateway;   /* routes: count default routes via it */
} Count;

static int count_link(const struct nlmsghdr *nlh, void *userdata) {
        Count *c = userdata;
        const struct nlattr *a;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return 0;
        attr_for_each(a, nlh, sizeof(struct ifinfomsg))
                if (mnl_attr_get_type(a) == IFLA_IFNAME &&
                    mnl_attr_validate(a, MNL_TYPE_STRING) == 0 &&
                    strncmp(mnl_attr_get_str(a), c->prefix, strlen(c->prefix)) == 0)
                        c->n++;
        return 0;
}

static int count_default_route(const struct nlmsghdr *nlh, void *userdata) {
        Count *c = userdata;
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a;

        if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_dst_len != 0 ||
            rtm->rtm_table != RT_TABLE_MAIN)
                return 0;
        attr_for_each(a, nlh, sizeof *rtm)
                if (mnl_attr_get_type(a) == RTA_GATEWAY && mnl_attr_get_payload_len(a) == 4 &&
                    ntohl(*(const uint32_t *) mnl_attr_get_payload(a)) == c->gateway)
                        c->n++;
        return 0;
}

static unsigned rt_count(Nl *nl, uint16_t type, nl_msg_fn fn, Count *c) {
        NlBuf b = {};
        int r;

        msg_dump(&b, nl, type, type == RTM_GETROUTE ? AF_INET : AF_UNSPEC);
        r = nlbuf_send(&b, nl);
        if (r >= 0)
                r = nl_wait(nl, b.first_seq, b.n, fn, c);
        if (r < 0)
                die("rtnetlink dump: %s", strerror(-r));
        return c->n;
}

typedef int (*elem_fn)(struct nftnl_set_elem *e, void *userdata);

typedef struct ElemDump {
        struct nftnl_set *s;
        elem_fn fn;
        void *userdata;
        unsigned n;
        int error;
} ElemDump;

static int elem_dump_each(struct nftnl_set_elem *e, void *userdata) {
        ElemDump *d = userdata;

        d->n++;
        if (d->fn && d->error == 0)
                d->error = d->fn(e, d->userdata);
        return 0;
}

static int elem_dump_msg(const struct nlmsghdr *nlh, void *userdata) {
        ElemDump *d = userdata;
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = nftnl_set_alloc();

        if (!s)
                return -ENOMEM;
        if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
                return -EBADMSG;
        return nftnl_set_elem_foreach(s, elem_dump_each, d);
}

/* Every element of one set, each through fn; return how many. */
static int nft_dump_set(Nl *nl, const char *table, const char *set, elem_fn fn, void *userdata,
                        unsigned *ret_n) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = set_new(table, set);
        ElemDump d = { .fn = fn, .userdata = userdata };
        char buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
        struct nlmsghdr *nlh;
        uint32_t seq = nl->seq++;
        int r;

        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, seq);
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        r = nl_send(nl, buf, nlh->nlmsg_len);
        if (r >= 0)
                r = nl_wait(nl, seq, 1, elem_dump_msg, &d);
        if (r >= 0)
                r = d.error;
        if (r < 0)
                return r;
        *ret_n = d.n;
        return 0;
}

static unsigned nft_count(Floor *f, const char *table, const char *set) {
        unsigned n;
        int r = nft_dump_set(&f->nf, table, set, NULL, NULL, &n);

        if (r < 0)
                die("cannot list set %s: %s", set, strerror(-r));
        return n;
}

static const char *const guest_sets[] = { "guest_mark", "guest_source", "guest_ifs",
                                          "guest_src4", "guest_src6" };

/* After n connects: n arc_ns links, each set with its n elements (guest_src6: two each),
 * and the clients' default routes via the host end. */
static void check_connected(Floor *f, Client *cs, unsigned n) {
        Count links = { .prefix = CONNECTED_NS_HOST_PREFIX };
        unsigned want;

        if (rt_count(&f->rt, RTM_GETLINK, count_link, &links) != n)
                die("%u %s links after %u connects", links.n, CONNECTED_NS_HOST_PREFIX, n);
        for (size_t i = 0; i < ELEMENTSOF(guest_sets); i++) {
                want = strcmp(guest_sets[i], "guest_src6") != 0 ? n : f->exact_sources ? 0 : 2 * n;
                if (nft_count(f, FW_TABLE, guest_sets[i]) != want)
                        die("set %s holds %u elements after %u connects, not %u", guest_sets[i],
                            nft_count(f, FW_TABLE, guest_sets[i]), n, want);
        }
        for (unsigned i = 0; i < n; i += n > 1 ? n - 1 : 1) {
                _cleanup_close_ int nsfd = -EBADF;
                Count routes = { .gateway = cs[i].host_addr };
                Nl ns = {};
                int r = client_enter(f, &cs[i], &nsfd, &ns);

                if (r < 0)
                        die("cannot enter %s's netns: %s", cs[i].peer, strerror(-r));
                rt_count(&ns, RTM_GETROUTE, count_default_route, &routes);
                netlink_close(&ns);
                if (routes.n != 1)
                        die("the netns of %s has %u default routes via its host end", cs[i].peer,
                            routes.n);
        }
}

static void check_disconnected(Floor *f) {
        Count links = { .prefix = CONNECTED_NS_HOST_PREFIX };

        if (rt_count(&f->rt, RTM_GETLINK, count_link, &links) != 0)
                die("%u %s links left after the disconnects", links.n, CONNECTED_NS_HOST_PREFIX);
        for (size_t i = 0; i < ELEMENTSOF(guest_sets); i++)
                if (nft_count(f, FW_TABLE, guest_sets[i]) != 0)
                        die("set %s not empty after the disconnects", guest_sets[i]);
}

/* ---- ModifyPortRule ---------------------------------------------------------------------- */

typedef enum RuleType {
        RULE_ACCESS,
        RULE_FORWARDING,
        _RULE_TYPE_MAX,
} RuleType;

static const char *const rule_type_names[_RULE_TYPE_MAX] = { "ACCESS", "FORWARDING" };
static const char *const rule_sets[_RULE_TYPE_MAX] = { "access", "port_fwd" };

/* The element of a TCP rule on eth0 with this port: access { "eth0" . tcp . port } or
 * port_fwd { "eth0" . tcp . port : 100.115.92.130 . port }. */
static void rule_elem(struct nftnl_set *s, RuleType t, uint16_t port, bool with_data) {
        uint8_t key[IFNAME_KEY + 8], data[8];

        key_ifname(key, RULE_IFNAME);
        key_u8(key + IFNAME_KEY, IPPROTO_TCP);
        key_port(key + IFNAME_KEY + 4, port);
        if (t == RULE_FORWARDING && with_data) {
                key_u32_net(data, FWD_DST);
                key_port(data + 4, port);
                set_elem(s, key, sizeof key, NULL, data, sizeof data, NULL);
        } else
                set_elem(s, key, sizeof key, NULL, NULL, 0, NULL);
}

static void rules_load(Floor *f, RuleType t, unsigned from, unsigned to) {
        for (unsigned i = from; i < to;) {
                _cleanup_(nftnl_set_freep) struct nftnl_set *s = set_new(FW_TABLE, rule_sets[t]);
                int r;

                for (unsigned k = 0; k < LOAD_CHUNK && i < to; k++, i++)
                        rule_elem(s, t, (uint16_t) (FIRST_PORT + i), true);
                nft_tx_begin(&f->tx, &f->nf);
                nft_tx_elems(&f->tx, &f->nf, NFT_MSG_NEWSETELEM, s);
                r = nft_tx_commit(&f->tx, &f->nf);
                if (r < 0)
                        die("cannot load %s rules: %s", rule_type_names[t], strerror(-r));
        }
}

static int rule_op(Floor *f, RuleType t, uint16_t port, bool create, double *ret_ms) {
        _cleanup_(nftnl_set_freep) struct nftnl_set *s = set_new(FW_TABLE, rule_sets[t]);
        uint64_t t0;
        int r;

        t0 = now_ns();
        rule_elem(s, t, port, create);
        nft_tx_begin(&f->tx, &f->nf);
        nft_tx_elems(&f->tx, &f->nf, create ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, s);
        r = nft_tx_commit(&f->tx, &f->nf);
        *ret_ms = ms_since(t0, now_ns());
        return r;
}

typedef struct RulesResult {
        unsigned levels[LEVELS_MAX], n_levels;
        Series ops[_RULE_TYPE_MAX][LEVELS_MAX][2]; /* [type][level][create, delete] */
} RulesResult;

static void bench_rules(Floor *f, RulesResult *res, unsigned rounds) {
        unsigned loaded = 0;

        if (PROBE_PORT + rounds > 65536 || FIRST_PORT + res->levels[res->n_levels - 1] > PROBE_PORT)
                die("too many rounds or rules for the port ranges");
        for (unsigned l = 0; l < res->n_levels; l++) {
                unsigned level = res->levels[l];

                for (int t = 0; t < _RULE_TYPE_MAX; t++)
                        rules_load(f, (RuleType) t, loaded, level);
                loaded = level;
                for (int t = 0; t < _RULE_TYPE_MAX; t++) {
                        if (nft_count(f, FW_TABLE, rule_sets[t]) != level)
                                die("%s holds %u elements, not %u", rule_sets[t],
                                    nft_count(f, FW_TABLE, rule_sets[t]), level);
                        for (unsigned r = 0; r < rounds; r++)
                                for (int op = 0; op < 2; op++) {
                                        double ms;
                                        int k = rule_op(f, (RuleType) t,
                                                        (uint16_t) (PROBE_PORT + r), op == 0, &ms);
                                        if (k < 0)
                                                die("%s %s port %u: %s", rule_type_names[t],
                                                    op == 0 ? "create" : "delete",
                                                    PROBE_PORT + r, strerror(-k));
                                        series_add(&res->ops[t][l][op], ms);
                                        /* Once, untimed: the element is really there. */
                                        if (r == 0 && op == 0 &&
                                            nft_count(f, FW_TABLE, rule_sets[t]) != level + 1)
                                                die("%s: a created element is missing",
                                                    rule_sets[t]);
                                }
                        if (nft_count(f, FW_TABLE, rule_sets[t]) != level)
                                die("%s: the probes left elements behind", rule_sets[t]);
                }
        }
}

/* ---- GetTrafficCounters ------------------------------------------------------------------ */

typedef struct Counter {
        char ifname[IFNAMSIZ];
        uint32_t source;
        uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
} Counter;

typedef struct Counters {
        Counter *v;
        size_t n, cap;
        bool tx;
        int bad;
} Counters;

/* The sources elements cycle through once every uplink has both families of one. */
static const TrafficSource counter_sources[] = {
        TRAFFIC_SOURCE_SYSTEM, TRAFFIC_SOURCE_USER, TRAFFIC_SOURCE_CHROME,
        TRAFFIC_SOURCE_UPDATE_ENGINE, TRAFFIC_SOURCE_ARC, TRAFFIC_SOURCE_CROSVM,
        TRAFFIC_SOURCE_PLUGINVM, TRAFFIC_SOURCE_HOST_VPN,
};

/* Element j of rx or tx, with u uplinks: uplink eth<100 + j % u>, IPv4 then IPv6, then the
 * next source. */
static void counter_key(uint8_t key[IFNAME_KEY + 8], unsigned j, unsigned u) {
        TrafficSource source = counter_sources[j / (2 * u) % ELEMENTSOF(counter_sources)];
        char name[IFNAMSIZ];

        snprintf(name, sizeof name, "eth%u", 100 + j % u);
        key_ifname(key, name);
        key_u32_host(key + IFNAME_KEY, fwmark_from_source(source));
        key_u8(key + IFNAME_KEY + 4, (uint8_t) (j / u % 2 ? NFPROTO_IPV6 : NFPROTO_IPV4));
}

/* How many (uplink, source) pairs the first per_set elements name. */
static unsigned counters_expected(unsigned per_set, unsigned u) {
        unsigned pairs = per_set < 2 * u ? (per_set < u ? per_set : u) : 0;

        if (per_set >= 2 * u) {
                unsigned full = per_set / (2 * u), rest = per_set % (2 * u);
                pairs = full * u + (rest < u ? rest : u);
        }
        return pairs;
}

static void counters_load(Floor *f, unsigned per_set, unsigned u) {
        static const char *const sets[] = { "rx", "tx" };

        for (size_t s = 0; s < ELEMENTSOF(sets); s++)
                for (unsigned j = 0; j < per_set;) {
                        _cleanup_(nftnl_set_freep) struct nftnl_set *set = set_new(FW_ACCT_TABLE, sets[s]);
                        int r;

                        for (unsigned k = 0; k < LOAD_CHUNK && j < per_set; k++, j++) {
                                uint8_t key[IFNAME_KEY + 8];
                                counter_key(key, j, u);
                                set_elem(set, key, sizeof key, NULL, NULL, 0, NULL);
                        }
                        nft_tx_begin(&f->tx, &f->nf);
                        nft_tx_elems(&f->tx, &f->nf, NFT_MSG_NEWSETELEM, set);
                        r = nft_tx_commit(&f->tx, &f->nf);
                        if (r < 0)
                                die("cannot fill the counters' set %s: %s", sets[s], strerror(-r));
                }
}

/* One element: its key says whose, its counter expression how much. */
static int counter_elem(struct nftnl_set_elem *e, void *userdata) {
        Counters *cs = userdata;
        const struct nftnl_expr *expr = nftnl_set_elem_get(e, NFTNL_SET_ELEM_EXPR, NULL);
        uint32_t len = 0, mark;
        const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
        Counter *c;

        if (!key || len != IFNAME_KEY + 8 || !expr ||
            strcmp(nftnl_expr_get_str(expr, NFTNL_EXPR_NAME), "counter") != 0)
                return -EBADMSG;
        if (cs->n == cs->cap) {
                size_t want = cs->cap ? cs->cap * 2 : 256;
                Counter *grown = reallocarray(cs->v, want, sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                cs->v = grown;
                cs->cap = want;
        }
        c = &cs->v[cs->n++];
        *c = (Counter) {};
        memcpy(c->ifname, key, IFNAMSIZ - 1);
        memcpy(&mark, key + IFNAME_KEY, sizeof mark);
        c->source = (uint32_t) fwmark_get_source(mark);
        if (cs->tx) {
                c->tx_bytes = nftnl_expr_get_u64(expr, NFTNL_EXPR_CTR_BYTES);
                c->tx_packets = nftnl_expr_get_u64(expr, NFTNL_EXPR_CTR_PACKETS);
        } else {
                c->rx_bytes = nftnl_expr_get_u64(expr, NFTNL_EXPR_CTR_BYTES);
                c->rx_packets = nftnl_expr_get_u64(expr, NFTNL_EXPR_CTR_PACKETS);
        }
        return 0;
}

static int counter_cmp(const void *a, const void *b) {
        const Counter *x = a, *y = b;
        int c = strcmp(x->ifname, y->ifname);
        return c ? c : (x->source > y->source) - (x->source < y->source);
}

/* Both sets dumped, then one entry per (interface, source), IPv4 and IPv6 summed. */
static int counters_read(Floor *f, Counters *cs, unsigned *ret_elements) {
        unsigned n_rx, n_tx;
        size_t k = 0;
        int r;

        cs->n = 0;
        cs->tx = false;
        r = nft_dump_set(&f->nf, FW_ACCT_TABLE, "rx", counter_elem, cs, &n_rx);
        if (r < 0)
                return r;
        cs->tx = true;
        r = nft_dump_set(&f->nf, FW_ACCT_TABLE, "tx", counter_elem, cs, &n_tx);
        if (r < 0)
                return r;
        if (cs->n)
                qsort(cs->v, cs->n, sizeof *cs->v, counter_cmp);
        for (size_t i = 0; i < cs->n; i++) {
                if (k > 0 && counter_cmp(&cs->v[k - 1], &cs->v[i]) == 0) {
                        cs->v[k - 1].rx_bytes += cs->v[i].rx_bytes;
                        cs->v[k - 1].rx_packets += cs->v[i].rx_packets;
                        cs->v[k - 1].tx_bytes += cs->v[i].tx_bytes;
                        cs->v[k - 1].tx_packets += cs->v[i].tx_packets;
                } else
                        cs->v[k++] = cs->v[i];
        }
        cs->n = k;
        *ret_elements = n_rx + n_tx;
        return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

typedef struct Options {
        unsigned n;          /* connects */
        unsigned levels[LEVELS_MAX], n_levels;
        unsigned rounds;     /* port rule create+delete rounds per type and level */
        unsigned elements;   /* counters' elements, rx and tx together */
        unsigned uplinks;    /* the interfaces they count (0: half the elements of a set) */
        unsigned calls;      /* counter reads */
        unsigned window;     /* half-width of the scaling windows */
        bool connect, rules, counters;
        bool exact_sources;
        unsigned burst;      /* clients connecting at once, batched (0: none) */
        const char *json;
} Options;

static void usage(FILE *f) {
        fputs("Usage: patchpanel-floor [--n N] [--rules N,N,...] [--rounds R] [--counter-elements E]\n"
              "                        [--counter-uplinks U] [--calls C] [--window W]\n"
              "                        [--only connect|rules|counters] [--sources interval|exact]\n"
              "                        [--burst B]\n"
              "                        [--json FILE]\n"
              "The kernel's floor under ConnectNamespace, ModifyPortRule and GetTrafficCounters,\n"
              "in network namespaces of its own (run as root). Times in ms.\n", f);
}

static unsigned parse_uint(const char *s, unsigned lo, unsigned hi, const char *what) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v < lo || v > hi)
                die("%s must be a number within %u..%u", what, lo, hi);
        return (unsigned) v;
}

static void parse_options(int argc, char **argv, Options *o) {
        static const struct option longs[] = {
                { "n", required_argument, NULL, 'n' },
                { "rules", required_argument, NULL, 'r' },
                { "rounds", required_argument, NULL, 'R' },
                { "counter-elements", required_argument, NULL, 'e' },
                { "counter-uplinks", required_argument, NULL, 'u' },
                { "calls", required_argument, NULL, 'c' },
                { "window", required_argument, NULL, 'w' },
                { "only", required_argument, NULL, 'o' },
                { "json", required_argument, NULL, 'j' },
                { "sources", required_argument, NULL, 's' },
                { "burst", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        *o = (Options) { .n = 50, .levels = { 10, 10000 }, .n_levels = 2, .rounds = 50,
                         .elements = 400, .calls = 200, .window = 5, .connect = true,
                         .rules = true, .counters = true, .exact_sources = true };
        while ((c = getopt_long(argc, argv, "h", longs, NULL)) >= 0)
                switch (c) {
                case 'n':
                        o->n = parse_uint(optarg, 2, CLIENTS_MAX, "--n");
                        break;
                case 'r': {
                        char *copy = strdupa(optarg), *save = NULL;
                        o->n_levels = 0;
                        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                                if (o->n_levels == LEVELS_MAX)
                                        die("--rules takes at most %d counts", LEVELS_MAX);
                                o->levels[o->n_levels] = parse_uint(t, 1, 32000, "--rules");
                                if (o->n_levels && o->levels[o->n_levels] <= o->levels[o->n_levels - 1])
                                        die("--rules must be ascending");
                                o->n_levels++;
                        }
                        if (o->n_levels == 0)
                                die("--rules needs at least one count");
                        break;
                }
                case 'R':
                        o->rounds = parse_uint(optarg, 2, 20000, "--rounds");
                        break;
                case 'e':
                        o->elements = parse_uint(optarg, 2, 60000, "--counter-elements");
                        break;
                case 'u':
                        o->uplinks = parse_uint(optarg, 1, 4096, "--counter-uplinks");
                        break;
                case 'c':
                        o->calls = parse_uint(optarg, 2, 100000, "--calls");
                        break;
                case 'w':
                        o->window = parse_uint(optarg, 1, 100, "--window");
                        break;
                case 'o':
                        o->connect = strcmp(optarg, "connect") == 0;
                        o->rules = strcmp(optarg, "rules") == 0;
                        o->counters = strcmp(optarg, "counters") == 0;
                        if (!o->connect && !o->rules && !o->counters)
                                die("--only takes connect, rules or counters");
                        break;
                case 'j':
                        o->json = optarg;
                        break;
                case 'b':
                        o->burst = parse_uint(optarg, 1, CLIENTS_MAX, "--burst");
                        break;
                case 's':
                        if (strcmp(optarg, "exact") != 0 && strcmp(optarg, "interval") != 0)
                                die("--sources takes exact (the daemon's sets) or interval");
                        o->exact_sources = strcmp(optarg, "exact") == 0;
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        exit(EXIT_FAILURE);
                }
        if (optind < argc)
                die("unexpected argument %s", argv[optind]);
}

/* Median of totals k-w..k+w (1-based), shifted inside 1..n, as bench_connect.py's windows. */
static double window_median(const Series *s, unsigned k, unsigned w) {
        size_t size = s->n < 2 * (size_t) w + 1 ? s->n : 2 * (size_t) w + 1;
        size_t lo = k > w ? k - w : 1;

        if (lo > s->n - size + 1)
                lo = s->n - size + 1;
        return quantile(s->v, lo - 1, lo - 1 + size, 0.5);
}

static const char *const connect_stage_names[_CONNECT_STAGE_MAX] = {
        "netns", "veth", "sysctl", "addr_up_route", "nft", "total",
};
static const char *const disconnect_stage_names[_DISCONNECT_STAGE_MAX] = {
        "link", "nft", "total",
};

/*
 * --sources interval, a what-if: the anti-spoofing sets as the daemon had them before
 * issue 14 (ifname . addr, flags interval: the kernel's pipapo sets, whose every change
 * copies their lookup tables, so that adding or removing a guest cost more the more guests
 * there were) and two elements per guest for the IPv6 sources every guest link has
 * (fe80::/64 and ::). The daemon's sets are now exact (guest_src4 a hash of /32s, Termina's
 * /28 in guest_net4 of its own, fe80::/64 and :: one rule); this puts the old ones back.
 */
static const char interval_sources_text[] =
        "flush chain inet " FW_TABLE " antispoof\n"
        "delete set inet " FW_TABLE " guest_src4\n"
        "delete set inet " FW_TABLE " guest_src6\n"
        "add set inet " FW_TABLE " guest_src4 { type ifname . ipv4_addr; flags interval; }\n"
        "add set inet " FW_TABLE " guest_src6 { type ifname . ipv6_addr; flags interval; }\n"
        "add rule inet " FW_TABLE " antispoof iifname != @guest_ifs accept\n"
        "add rule inet " FW_TABLE " antispoof iifname . ip saddr != @guest_src4"
        " counter name \"spoofed\" drop\n"
        "add rule inet " FW_TABLE " antispoof iifname . ip6 saddr != @guest_src6"
        " counter name \"spoofed\" drop\n";

static void floor_setup(Floor *f) {
        ErrBuf err = {};
        /* As the labs run the daemon: ingress firewall on, LOCKDOWN for root. */
        FwConfig config = { .ingress_firewall = true, .lockdown_uid = 0 };
        Fw *fw = NULL;
        int r;

        if (unshare(CLONE_NEWNET) < 0)
                die("cannot make a network namespace: %m (run as root)");
        f->host_netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (f->host_netns_fd < 0)
                die("cannot open the host namespace: %m");
        r = fw_open(&fw);
        if (r < 0)
                die("cannot open the firewall: %s", strerror(-r));
        r = fw_tables_replace(fw, &config, &err);
        if (r < 0)
                die("cannot install the tables: %s", err.msg);
        fw_close(fw);
        if (!f->exact_sources) {
                struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
                if (!nft || nft_run_cmd_from_buffer(nft, interval_sources_text) != 0)
                        die("cannot make the sources' sets intervals");
                nft_ctx_free(nft);
        }
        if (netlink_open(&f->rt, NETLINK_ROUTE) < 0 || netlink_open(&f->nf, NETLINK_NETFILTER) < 0)
                die("cannot open netlink: %m");
        f->guest_mark = FWMARK_SNAT | fwmark_from_source(TRAFFIC_SOURCE_USER) |
                        fwmark_from_vpn_policy(VPN_POLICY_BYPASS_VPN);
        snprintf(f->guest_chain, sizeof f->guest_chain, "source_%s",
                 traffic_source_to_string(TRAFFIC_SOURCE_USER));
        f->pidfd_ns_ioctl = true;
}

static void run_connect(Floor *f, const Options *o, ConnectResult *res) {
        _cleanup_free_ Client *cs = calloc(o->n + 1, sizeof *cs);
        ConnectResult warm = {};

        if (!cs)
                die("out of memory");
        for (unsigned s = 0; s < _CONNECT_STAGE_MAX; s++)
                res->connect[s].name = connect_stage_names[s];
        for (unsigned s = 0; s < _DISCONNECT_STAGE_MAX; s++)
                res->disconnect[s].name = disconnect_stage_names[s];
        for (unsigned i = 0; i <= o->n; i++)
                client_spawn(&cs[i], i);

        /* Warm-up, untimed: the first call through every path (the last client's /30). */
        if (floor_connect(f, &cs[o->n], &warm, true) < 0 || floor_disconnect(f, &cs[o->n], &warm) < 0)
                goto fail;
        for (unsigned s = 0; s < _CONNECT_STAGE_MAX; s++)
                series_free(&warm.connect[s]);
        for (unsigned s = 0; s < _DISCONNECT_STAGE_MAX; s++)
                series_free(&warm.disconnect[s]);

        for (unsigned i = 0; i < o->n; i++)
                if (floor_connect(f, &cs[i], res, true) < 0)
                        goto fail;
        check_connected(f, cs, o->n);
        for (unsigned i = 0; i < o->n; i++)
                if (floor_disconnect(f, &cs[i], res) < 0)
                        goto fail;
        check_disconnected(f);
        res->n = o->n;
        clients_kill(cs, o->n + 1);
        return;

fail:
        clients_kill(cs, o->n + 1);
        die("ConnectNamespace floor failed");
}

typedef struct BurstResult {
        unsigned n;
        double links_ms, nft_ms;          /* connect: every link, then one nftables batch */
        double del_links_ms, del_nft_ms;  /* teardown: one group delete, one batch */
} BurstResult;

static void msg_link_group(NlBuf *b, Nl *nl, int ifindex, uint32_t group) {
        struct nlmsghdr *nlh = nlbuf_put(b, nl, RTM_NEWLINK, NLM_F_ACK);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        if (ifindex == 0)
                nlh->nlmsg_type = RTM_DELLINK; /* every link of the group */
        mnl_attr_put_u32(nlh, IFLA_GROUP, group);
        nlbuf_end(b, nlh);
}

/*
 * --burst B: B clients connect at once and the work is batched the way a helper could batch
 * queued requests: each client's links as above, then one nftables batch for all of them;
 * then all disconnect at once: every host end into one group, the group deleted (one
 * unregistration for all), one batch removing every element.
 */
static void run_burst(Floor *f, unsigned b, BurstResult *res) {
        _cleanup_free_ Client *cs = calloc(b, sizeof *cs);
        uint64_t t0, t1, t2, t3;
        NlBuf *nb = NULL;
        int r = 0;

        if (!cs)
                die("out of memory");
        for (unsigned i = 0; i < b; i++)
                client_spawn(&cs[i], i);

        t0 = now_ns();
        for (unsigned i = 0; i < b; i++)
                if (floor_connect(f, &cs[i], NULL, false) < 0)
                        goto fail;
        t1 = now_ns();
        nft_tx_begin(&f->tx, &f->nf);
        for (unsigned i = 0; i < b; i++)
                nft_guest(f, &cs[i], NFT_MSG_NEWSETELEM);
        r = nft_tx_commit(&f->tx, &f->nf);
        if (r < 0)
                goto fail;
        t2 = now_ns();
        res->links_ms = ms_since(t0, t1);
        res->nft_ms = ms_since(t1, t2);
        check_connected(f, cs, b);

        t0 = now_ns();
        nb = calloc(1, sizeof *nb);
        if (!nb)
                die("out of memory");
        for (unsigned i = 0; i <= b; i++) {
                if (i == b || nb->n == 128) {
                        if (i == b)
                                msg_link_group(nb, &f->rt, 0, PP_DELETE_GROUP);
                        r = nlbuf_send(nb, &f->rt);
                        if (r >= 0)
                                r = nl_wait(&f->rt, nb->first_seq, nb->n, NULL, NULL);
                        if (r < 0)
                                goto fail;
                        *nb = (NlBuf) {};
                }
                if (i < b)
                        msg_link_group(nb, &f->rt, cs[i].host_ifindex, PP_DELETE_GROUP);
        }
        t1 = now_ns();
        nft_tx_begin(&f->tx, &f->nf);
        for (unsigned i = 0; i < b; i++)
                nft_guest(f, &cs[i], NFT_MSG_DELSETELEM);
        r = nft_tx_commit(&f->tx, &f->nf);
        if (r < 0)
                goto fail;
        t3 = now_ns();
        res->del_links_ms = ms_since(t0, t1);
        res->del_nft_ms = ms_since(t1, t3);
        res->n = b;
        check_disconnected(f);
        free(nb);
        clients_kill(cs, b);
        return;

fail:
        free(nb);
        clients_kill(cs, b);
        die("the burst failed: %s", strerror(-r));
}

static void run_counters(Floor *f, const Options *o, Series *read, unsigned *ret_counters) {
        Counters cs = {};
        unsigned per_set = (o->elements + 1) / 2, elements;

        unsigned u = o->uplinks ? o->uplinks : (per_set + 1) / 2, want;

        if (per_set > 2 * u * ELEMENTSOF(counter_sources))
                die("%u elements per set are more than %u uplinks have", per_set, u);
        want = counters_expected(per_set, u);
        counters_load(f, per_set, u);
        for (unsigned i = 0; i < 5; i++) /* warm-up, untimed */
                if (counters_read(f, &cs, &elements) < 0)
                        die("cannot read the counters");
        if (elements != 2 * per_set || cs.n != want)
                die("the counters' sets gave %u elements and %zu counters, not %u and %u",
                    elements, cs.n, 2 * per_set, want);
        for (unsigned i = 0; i < o->calls; i++) {
                uint64_t t0 = now_ns();
                int r = counters_read(f, &cs, &elements);

                if (r < 0)
                        die("cannot read the counters: %s", strerror(-r));
                series_add(read, ms_since(t0, now_ns()));
        }
        *ret_counters = (unsigned) cs.n;
        free(cs.v);
}

static double flatness(const RulesResult *rr, int t, int op) {
        return series_median(&rr->ops[t][rr->n_levels - 1][op]) / series_median(&rr->ops[t][0][op]);
}

static void print_report(const Floor *f, const Options *o, const ConnectResult *cr,
                         const RulesResult *rr, const Series *read, unsigned counters,
                         const BurstResult *b) {
        printf("== patchpanel-floor: the kernel's floor, one process, no D-Bus, no IPC ==\n");
        printf("(pidfd -> netns: %s; RTM_NEWLINK echo: %s; guests' sources: %s)\n",
               f->pidfd_ns_ioctl ? "PIDFD_GET_NET_NAMESPACE" : "setns + /proc",
               f->echo_missing ? "missing, ifindexes by ioctl" : "yes",
               f->exact_sources ? "exact, as the daemon's" : "interval sets (what-if: before issue 14)");
        if (o->connect) {
                printf("\n-- ConnectNamespace: %u connects, then %u disconnects (ms) --\n", cr->n, cr->n);
                printf("  %-26s %8s %8s %8s %6s\n", "stage", "median", "p90", "mean", "n");
                for (unsigned s = 0; s < _CONNECT_STAGE_MAX; s++) {
                        Series named = cr->connect[s];
                        char name[48];

                        snprintf(name, sizeof name, "connect.%s", named.name);
                        named.name = name;
                        series_print(&named);
                }
                for (unsigned s = 0; s < _DISCONNECT_STAGE_MAX; s++) {
                        Series named = cr->disconnect[s];
                        char name[48];

                        snprintf(name, sizeof name, "disconnect.%s", named.name);
                        named.name = name;
                        series_print(&named);
                }
                if (cr->n >= 20) {
                        const Series *t = &cr->connect[CONNECT_TOTAL];
                        double k10 = window_median(t, 10, o->window);
                        double kn = window_median(t, cr->n, o->window);
                        printf("  scaling: connect total at k=10 %.3f, at k=%u %.3f (medians of "
                               "k-%u..k+%u): ratio %.2f\n", k10, cr->n, kn, o->window, o->window,
                               kn / k10);
                        printf("    per stage, k=10 -> k=%u:", cr->n);
                        for (unsigned st = 0; st < CONNECT_TOTAL; st++)
                                printf(" %s %.3f -> %.3f;", cr->connect[st].name,
                                       window_median(&cr->connect[st], 10, o->window),
                                       window_median(&cr->connect[st], cr->n, o->window));
                        printf("\n");
                }
                if (b->n) {
                        double c = b->links_ms + b->nft_ms, d = b->del_links_ms + b->del_nft_ms;
                        printf("  burst of %u, batched: connects %.2f ms (links one by one %.2f, "
                               "nftables in one batch %.2f): %.0f connects/s; teardown %.2f ms "
                               "(links as one group %.2f, one batch %.2f)\n", b->n, c,
                               b->links_ms, b->nft_ms, b->n / c * 1000, d, b->del_links_ms,
                               b->del_nft_ms);
                }
        }
        if (o->rules) {
                printf("\n-- ModifyPortRule: one element created, then deleted, %u rounds, with N "
                       "of its type present (ms) --\n", o->rounds);
                printf("  %-11s %6s %-7s %8s %8s %8s\n", "type", "N", "op", "median", "p90", "mean");
                for (int t = 0; t < _RULE_TYPE_MAX; t++)
                        for (unsigned l = 0; l < rr->n_levels; l++)
                                for (int op = 0; op < 2; op++) {
                                        const Series *s = &rr->ops[t][l][op];
                                        printf("  %-11s %6u %-7s %8.3f %8.3f %8.3f\n",
                                               rule_type_names[t], rr->levels[l],
                                               op ? "delete" : "create", series_median(s),
                                               series_p90(s), series_mean(s));
                                }
                if (rr->n_levels > 1) {
                        printf("  flatness, median with %u / with %u:", rr->levels[rr->n_levels - 1],
                               rr->levels[0]);
                        for (int t = 0; t < _RULE_TYPE_MAX; t++)
                                for (int op = 0; op < 2; op++)
                                        printf(" %s %s %.2f;", rule_type_names[t],
                                               op ? "delete" : "create", flatness(rr, t, op));
                        printf("\n");
                }
        }
        if (o->counters) {
                printf("\n-- GetTrafficCounters: dump of the counters' sets rx and tx, %u elements, "
                       "%u reads (ms) --\n", 2 * ((o->elements + 1) / 2), o->calls);
                printf("  %-26s %8s %8s %8s %6s\n", "", "median", "p90", "mean", "n");
                series_print(read);
                printf("  each read: two set dumps, decoded and summed into %u counters\n", counters);
        }
        fflush(stdout);
}

static void write_json(const char *path, const Floor *f, const Options *o, const ConnectResult *cr,
                       const RulesResult *rr, const Series *read, unsigned counters,
                       const BurstResult *b) {
        FILE *j = fopen(path, "we");

        if (!j)
                die("cannot write %s: %m", path);
        fprintf(j, "{\"pidfd_ns_ioctl\": %s, \"newlink_echo\": %s, \"sources\": \"%s\"",
                f->pidfd_ns_ioctl ? "true" : "false", f->echo_missing ? "false" : "true",
                f->exact_sources ? "exact" : "interval");
        if (o->connect) {
                fprintf(j, ",\n \"connect\": {\"n\": %u, \"stages\": {", cr->n);
                for (unsigned s = 0; s < _CONNECT_STAGE_MAX; s++) {
                        fprintf(j, "%s\"%s\": ", s ? ", " : "", cr->connect[s].name);
                        series_json(j, &cr->connect[s]);
                }
                fputs("}},\n \"disconnect\": {\"stages\": {", j);
                for (unsigned s = 0; s < _DISCONNECT_STAGE_MAX; s++) {
                        fprintf(j, "%s\"%s\": ", s ? ", " : "", cr->disconnect[s].name);
                        series_json(j, &cr->disconnect[s]);
                }
                fputs("}}", j);
                if (cr->n >= 20) {
                        const Series *t = &cr->connect[CONNECT_TOTAL];
                        fprintf(j, ",\n \"scaling\": {\"window\": %u, \"k10\": ", o->window);
                        json_num(j, window_median(t, 10, o->window));
                        fprintf(j, ", \"k\": %u, \"kn\": ", cr->n);
                        json_num(j, window_median(t, cr->n, o->window));
                        fputs(", \"stages\": {", j);
                        for (unsigned st = 0; st < CONNECT_TOTAL; st++) {
                                fprintf(j, "%s\"%s\": [", st ? ", " : "", cr->connect[st].name);
                                json_num(j, window_median(&cr->connect[st], 10, o->window));
                                fputs(", ", j);
                                json_num(j, window_median(&cr->connect[st], cr->n, o->window));
                                fputs("]", j);
                        }
                        fputs("}}", j);
                }
                if (b->n)
                        fprintf(j, ",\n \"burst\": {\"n\": %u, \"links_ms\": %.4f, \"nft_ms\": %.4f, "
                                "\"del_links_ms\": %.4f, \"del_nft_ms\": %.4f}", b->n, b->links_ms,
                                b->nft_ms, b->del_links_ms, b->del_nft_ms);
        }
        if (o->rules) {
                fprintf(j, ",\n \"rules\": {\"rounds\": %u", o->rounds);
                for (int t = 0; t < _RULE_TYPE_MAX; t++) {
                        fprintf(j, ", \"%s\": {", rule_type_names[t]);
                        for (unsigned l = 0; l < rr->n_levels; l++) {
                                fprintf(j, "%s\"%u\": {\"create\": ", l ? ", " : "", rr->levels[l]);
                                series_json(j, &rr->ops[t][l][0]);
                                fputs(", \"delete\": ", j);
                                series_json(j, &rr->ops[t][l][1]);
                                fputs("}", j);
                        }
                        fputs("}", j);
                }
                fputs("}", j);
        }
        if (o->counters) {
                fprintf(j, ",\n \"counters\": {\"elements\": %u, \"counters\": %u, \"read\": ",
                        2 * ((o->elements + 1) / 2), counters);
                series_json(j, read);
                fputs("}", j);
        }
        fputs("}\n", j);
        if (fclose(j) != 0)
                die("cannot write %s: %m", path);
}

int main(int argc, char **argv) {
        Options o;
        Floor f = { .host_netns_fd = -EBADF };
        ConnectResult cr = {};
        RulesResult rr = {};
        Series read = { .name = "counters.read" };
        BurstResult burst = {};
        unsigned counters = 0;

        parse_options(argc, argv, &o);
        if (geteuid() != 0)
                die("run as root");
        setvbuf(stdout, NULL, _IOLBF, 0);
        f.exact_sources = o.exact_sources;
        floor_setup(&f);

        if (o.connect)
                run_connect(&f, &o, &cr);
        if (o.connect && o.burst)
                run_burst(&f, o.burst, &burst);
        if (o.rules) {
                memcpy(rr.levels, o.levels, sizeof rr.levels);
                rr.n_levels = o.n_levels;
                bench_rules(&f, &rr, o.rounds);
        }
        if (o.counters)
                run_counters(&f, &o, &read, &counters);

        print_report(&f, &o, &cr, &rr, &read, counters, &burst);
        if (o.json)
                write_json(o.json, &f, &o, &cr, &rr, &read, counters, &burst);

        for (unsigned st = 0; st < _CONNECT_STAGE_MAX; st++)
                series_free(&cr.connect[st]);
        for (unsigned st = 0; st < _DISCONNECT_STAGE_MAX; st++)
                series_free(&cr.disconnect[st]);
        for (int t = 0; t < _RULE_TYPE_MAX; t++)
                for (unsigned l = 0; l < LEVELS_MAX; l++)
                        for (int op = 0; op < 2; op++)
                                series_free(&rr.ops[t][l][op]);
        series_free(&read);
        free(f.tx.buf);
        netlink_close(&f.rt);
        netlink_close(&f.nf);
        safe_close(f.host_netns_fd);
        return EXIT_SUCCESS;
}
