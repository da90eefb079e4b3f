/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Why mcastd did not forward a packet: one list for the parsers (dns.c, ssdp.c, bcast.c) and
 * the forwarding decisions (mcast-fwd.c), so the counters are one array per link and
 * direction and every reason has one name in `patchpanel-cli status` and `mcastd --stats`.
 * Rate limiting is not a drop reason: it has a counter of its own.
 *
 * A parser reports the first problem it meets; a packet is counted once, under that reason.
 */

#include <errno.h>

typedef enum McastDrop {
        /* Forwarding decisions */
        MCAST_DROP_PROTOCOL_OFF,          /* the link does not carry this protocol and family */
        MCAST_DROP_WRONG_SOCKET,          /* arrived on a socket bound to another link */
        MCAST_DROP_SOURCE_IS_HOST,        /* sent by this host (one of the link's own addresses) */
        MCAST_DROP_SOURCE_OUTSIDE_SUBNET, /* from a guest link, source not in its subnet */
        MCAST_DROP_SOURCE_INVALID,        /* 0.0.0.0, loopback, multicast or broadcast source */
        MCAST_DROP_NO_IPV4_ADDRESS,       /* the egress link has no IPv4 address for the copy */
        MCAST_DROP_NO_ROUTE,              /* no other link carries this protocol */
        MCAST_DROP_MDNS_RESPONSE_PORT,    /* multicast mDNS response not from port 5353 */
        MCAST_DROP_TOO_BIG,               /* the copy does not fit the caller's buffer */
        MCAST_DROP_SEND_FAILED,           /* the daemon's send failed */
        MCAST_DROP_NOT_A_REPLY,           /* on a legacy query's reply socket, not an answer */

        /* DNS wire format and mDNS rules (dns.c) */
        MCAST_DROP_DNS_SHORT_HEADER,      /* fewer than 12 bytes */
        MCAST_DROP_DNS_TOO_LONG,          /* more than DNS_MESSAGE_MAX bytes */
        MCAST_DROP_DNS_OPCODE,            /* OPCODE not 0 (RFC 6762 §18.3) */
        MCAST_DROP_DNS_RCODE,             /* RCODE not 0 (RFC 6762 §18.11) */
        MCAST_DROP_DNS_EMPTY,             /* no question and no record */
        MCAST_DROP_DNS_TOO_MANY_RECORDS,  /* more than DNS_RECORDS_MAX entries */
        MCAST_DROP_DNS_TRUNCATED,         /* a question or record header runs past the end */
        MCAST_DROP_DNS_NAME_TRUNCATED,    /* a name runs past the end */
        MCAST_DROP_DNS_LABEL_TYPE,        /* label type 0x40 or 0x80 (RFC 6891 §5) */
        MCAST_DROP_DNS_NAME_TOO_LONG,     /* more than 255 octets (RFC 1035 §3.1) */
        MCAST_DROP_DNS_POINTER_FORWARD,   /* compression pointer not to an earlier offset */
        MCAST_DROP_DNS_POINTER_HEADER,    /* compression pointer into the header */
        MCAST_DROP_DNS_POINTER_NOT_NAME,  /* compression pointer to where no name was read */
        MCAST_DROP_DNS_POINTER_CHAIN,     /* more than DNS_POINTERS_MAX pointers in a name */
        MCAST_DROP_DNS_RDATA_TRUNCATED,   /* RDLENGTH runs past the end */
        MCAST_DROP_DNS_RDATA_LENGTH,      /* RDLENGTH wrong for the type (A not 4, ...) */
        MCAST_DROP_DNS_RDATA_MALFORMED,   /* RDATA of a known type does not parse to its end */
        MCAST_DROP_DNS_TRAILING_BYTES,    /* bytes after the last record */

        /* SSDP (ssdp.c) */
        MCAST_DROP_SSDP_TOO_LONG,         /* more than SSDP_MESSAGE_MAX bytes */
        MCAST_DROP_SSDP_NUL,              /* a NUL byte */
        MCAST_DROP_SSDP_CONTROL_CHAR,     /* a control character other than CR, LF, HTAB */
        MCAST_DROP_SSDP_LINE_ENDING,      /* a bare CR or LF: lines must end in CRLF */
        MCAST_DROP_SSDP_START_LINE,       /* not M-SEARCH/NOTIFY * HTTP/1.1 or HTTP/1.1 200 OK */
        MCAST_DROP_SSDP_HEADER,           /* a header line without a name and a colon */
        MCAST_DROP_SSDP_TOO_MANY_HEADERS, /* more than SSDP_HEADERS_MAX header lines */
        MCAST_DROP_SSDP_UNTERMINATED,     /* no empty line after the headers */
        MCAST_DROP_SSDP_BODY,             /* bytes after the empty line */
        MCAST_DROP_SSDP_MISSING_HEADER,   /* a header the method requires is absent */
        MCAST_DROP_SSDP_DUPLICATE_HEADER, /* a header that must be unique appears twice */
        MCAST_DROP_SSDP_HEADER_VALUE,     /* MAN, NTS or MX with a value outside the spec */

        /* UDP broadcast over IPv4 (bcast.c) */
        MCAST_DROP_BCAST_TRUNCATED,       /* shorter than its headers or its total length */
        MCAST_DROP_BCAST_VERSION,         /* not IPv4 */
        MCAST_DROP_BCAST_HEADER_LENGTH,   /* IHL below 5 */
        MCAST_DROP_BCAST_IP_OPTIONS,      /* IP options that do not parse */
        MCAST_DROP_BCAST_TOTAL_LENGTH,    /* total length below the header length */
        MCAST_DROP_BCAST_IP_CHECKSUM,     /* wrong IPv4 header checksum */
        MCAST_DROP_BCAST_FRAGMENT,        /* MF set or a fragment offset */
        MCAST_DROP_BCAST_NOT_UDP,         /* another protocol */
        MCAST_DROP_BCAST_UDP_LENGTH,      /* UDP length not the IP payload length */
        MCAST_DROP_BCAST_UDP_CHECKSUM,    /* wrong UDP checksum */
        MCAST_DROP_BCAST_PORT,            /* source or destination port below 1024 */
        MCAST_DROP_BCAST_DESTINATION,     /* neither 255.255.255.255 nor the subnet broadcast */

        _MCAST_DROP_MAX,
        _MCAST_DROP_INVALID = -EINVAL,
} McastDrop;

/*
 * mcast_drop_to_string() - the name of a drop reason, as counters show it.
 * @d: the reason
 *
 * Return: "dns-pointer-forward" and the like; NULL for a value out of range.
 */
const char *mcast_drop_to_string(McastDrop d);
