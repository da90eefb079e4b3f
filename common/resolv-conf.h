/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The name servers of a resolv.conf(5) file, read the way the C library's resolver reads
 * them: one `nameserver ADDRESS` per line, the keyword first on its line, anything after
 * the address ignored, lines whose first character is '#' or ';' comments, an address that
 * does not parse skipped. An IPv6 address may carry a scope after '%' (an interface name or
 * index), which a link-local one needs to mean anything. A pure function of the bytes: the
 * manager reads /etc/resolv.conf or systemd-resolved's copy and hands the text here.
 *
 * The servers systemd-resolved itself lists on D-Bus (its Manager's DNS property, one
 * (ifindex, family, address bytes) each) become the same DnsServer through
 * dns_server_from_resolved(), a server of one link when resolved says so.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Servers kept at most (glibc keeps 3; systemd-resolved's file may list more). */
#define RESOLV_CONF_SERVERS_MAX 16
/* Servers of systemd-resolved's DNS property kept at most: its global ones and every
 * link's. */
#define DNS_SERVERS_MAX 64
/* Bytes of a file read at most; the rest is ignored. */
#define RESOLV_CONF_SIZE_MAX (64u * 1024u)

typedef struct DnsServer {
        int family;            /* AF_INET or AF_INET6 */
        uint8_t addr[16];      /* network byte order; the first 4 bytes for AF_INET */
        char scope[IFNAMSIZ];  /* what followed '%' ("eth0", "3"), or "" */
        int ifindex;           /* the one link it serves (resolved's per-link servers), or 0 */
} DnsServer;

/*
 * resolv_conf_parse() - the name servers of a resolv.conf text, in file order.
 * @text: the file's bytes (need not be NUL-terminated; a NUL ends the line it is on)
 * @len: how many
 * @ret: room for @max servers
 * @max: at most this many are kept; later ones are ignored
 *
 * Return: how many servers were stored in @ret (0 when none).
 */
size_t resolv_conf_parse(const char *text, size_t len, DnsServer *ret, size_t max);

/*
 * dns_server_from_resolved() - one entry of systemd-resolved's DNS property (signature
 * a(iiay), org.freedesktop.resolve1(5)) as a server.
 * @ifindex: the link whose server it is, 0 for a global one
 * @family: AF_INET or AF_INET6
 * @bytes: the address, network byte order
 * @len: 4 for AF_INET, 16 for AF_INET6
 * @ret: the server (no scope; ifindex as given), set on success only
 *
 * Return: 0; -EINVAL for a negative @ifindex, -EAFNOSUPPORT for another family, -EBADMSG
 * when @len is not the family's.
 */
int dns_server_from_resolved(int ifindex, int family, const void *bytes, size_t len,
                             DnsServer *ret);

/* Whether two server lists are the same, in the same order. */
bool dns_servers_equal(const DnsServer *a, size_t n_a, const DnsServer *b, size_t n_b);
