/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbor Discovery frames: validation (RFC 4861 §6.1, §7.1) and the proxy's rewrite
 * (RFC 4389 §4.1). Every byte is read through Reader, whose checks cannot wrap; a failed
 * read names the reason the frame is dropped and nothing else happens.
 */

#include <linux/if_ether.h>
#include <string.h>

#include "nd-packet.h"

/* Minimum ICMPv6 length of each type, options excluded (RFC 4861 §4.1 to §4.4). */
static const size_t nd_min_len[_ND_TYPE_MAX] = {
        [ND_TYPE_RS] = 8,
        [ND_TYPE_RA] = 16,
        [ND_TYPE_NS] = 24,
        [ND_TYPE_NA] = 24,
};

static const char *const nd_type_names[_ND_TYPE_MAX] = {
        [ND_TYPE_RS] = "RS",
        [ND_TYPE_RA] = "RA",
        [ND_TYPE_NS] = "NS",
        [ND_TYPE_NA] = "NA",
};

static const char *const nd_drop_names[_ND_DROP_MAX] = {
        [ND_DROP_SHORT_FRAME] = "short-frame",
        [ND_DROP_VLAN] = "vlan",
        [ND_DROP_NOT_IPV6] = "not-ipv6",
        [ND_DROP_ETH_SOURCE] = "eth-source",
        [ND_DROP_IP_VERSION] = "ip-version",
        [ND_DROP_PAYLOAD_LENGTH] = "payload-length",
        [ND_DROP_EXTENSION_HEADER] = "extension-header",
        [ND_DROP_NOT_ICMPV6] = "not-icmpv6",
        [ND_DROP_BAD_SOURCE] = "bad-source",
        [ND_DROP_BAD_DESTINATION] = "bad-destination",
        [ND_DROP_NOT_ND] = "not-nd",
        [ND_DROP_CODE] = "code",
        [ND_DROP_HOP_LIMIT] = "hop-limit",
        [ND_DROP_TOO_SHORT] = "too-short",
        [ND_DROP_CHECKSUM] = "checksum",
        [ND_DROP_OPTION_ZERO_LENGTH] = "option-zero-length",
        [ND_DROP_OPTION_TRUNCATED] = "option-truncated",
        [ND_DROP_TOO_MANY_OPTIONS] = "too-many-options",
        [ND_DROP_LLADDR_LENGTH] = "lladdr-length",
        [ND_DROP_DUPLICATE_LLADDR] = "duplicate-lladdr",
        [ND_DROP_PREFIX_INFO] = "prefix-info",
        [ND_DROP_TOO_MANY_PREFIXES] = "too-many-prefixes",
        [ND_DROP_RA_SOURCE] = "ra-source",
        [ND_DROP_TARGET_MULTICAST] = "target-multicast",
        [ND_DROP_NA_SOLICITED_MULTICAST] = "na-solicited-multicast",
        [ND_DROP_DAD_DESTINATION] = "dad-destination",
        [ND_DROP_UNSPECIFIED_LLADDR] = "unspecified-lladdr",
        [ND_DROP_UNKNOWN_LINK] = "unknown-link",
        [ND_DROP_OWN_FRAME] = "own-frame",
        [ND_DROP_WRONG_DIRECTION] = "wrong-direction",
        [ND_DROP_NO_PEER] = "no-peer",
        [ND_DROP_LOCAL_DESTINATION] = "local-destination",
        [ND_DROP_FOR_HOST] = "for-host",
        [ND_DROP_ANSWERED] = "answered",
        [ND_DROP_NO_NEIGHBOR] = "no-neighbor",
        [ND_DROP_SEND_FAILED] = "send-failed",
};

const char *nd_type_to_string(NdType t) {
        if (t < 0 || t >= _ND_TYPE_MAX)
                return NULL;
        return nd_type_names[t];
}

const char *nd_drop_to_string(NdDrop d) {
        if (d < 0 || d >= _ND_DROP_MAX)
                return NULL;
        return nd_drop_names[d];
}

static NdType nd_type_from_icmp6(uint8_t type) {
        switch (type) {
        case ND_ROUTER_SOLICIT:
                return ND_TYPE_RS;
        case ND_ROUTER_ADVERT:
                return ND_TYPE_RA;
        case ND_NEIGHBOR_SOLICIT:
                return ND_TYPE_NS;
        case ND_NEIGHBOR_ADVERT:
                return ND_TYPE_NA;
        default:
                return _ND_TYPE_INVALID;
        }
}

bool nd_addr_is_multicast(const struct in6_addr *a) {
        return a->s6_addr[0] == 0xff;
}

bool nd_addr_is_link_local(const struct in6_addr *a) {
        return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

bool nd_addr_is_unspecified(const struct in6_addr *a) {
        static const struct in6_addr any = {};
        return memcmp(a, &any, sizeof any) == 0;
}

bool nd_addr_is_loopback(const struct in6_addr *a) {
        static const struct in6_addr loopback = { .s6_addr[15] = 1 };
        return memcmp(a, &loopback, sizeof loopback) == 0;
}

bool nd_addr_is_solicited_node(const struct in6_addr *a) {
        static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
        return memcmp(a->s6_addr, prefix, sizeof prefix) == 0;
}

bool nd_addr_is_learnable(const struct in6_addr *a) {
        return (a->s6_addr[0] & 0xe0) == 0x20 || (a->s6_addr[0] & 0xfe) == 0xfc;
}

/* The IPv6 extension headers (RFC 8200 §4, IANA "IPv6 Extension Header Types"). */
static bool is_extension_header(uint8_t next_header) {
        switch (next_header) {
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_FRAGMENT:
        case IPPROTO_ESP:
        case IPPROTO_AH:
        case IPPROTO_DSTOPTS:
        case IPPROTO_MH:
        case 139:                    /* HIP, RFC 7401 */
        case 140:                    /* Shim6, RFC 5533 */
        case 253:                    /* experiments, RFC 3692 */
        case 254:
                return true;
        default:
                return false;
        }
}

/*
 * A cursor over the frame. Every field is read through it; a read checks what is left
 * with a comparison that cannot wrap (want > len - off), and off never passes len.
 */
typedef struct Reader {
        const uint8_t *buf;
        size_t len;
        size_t off;
} Reader;

static size_t reader_left(const Reader *rd) {
        return rd->len - rd->off;
}

static const uint8_t *reader_get(Reader *rd, size_t want) {
        const uint8_t *p;

        if (want > rd->len - rd->off)
                return NULL;
        p = rd->buf + rd->off;
        rd->off += want;
        return p;
}

static bool reader_skip(Reader *rd, size_t n) {
        return reader_get(rd, n) != NULL;
}

static bool reader_u8(Reader *rd, uint8_t *ret) {
        const uint8_t *p = reader_get(rd, 1);

        if (!p)
                return false;
        *ret = p[0];
        return true;
}

static bool reader_be16(Reader *rd, uint16_t *ret) {
        const uint8_t *p = reader_get(rd, 2);

        if (!p)
                return false;
        *ret = (uint16_t) (p[0] << 8 | p[1]);
        return true;
}

static bool reader_be32(Reader *rd, uint32_t *ret) {
        const uint8_t *p = reader_get(rd, 4);

        if (!p)
                return false;
        *ret = (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
        return true;
}

static bool reader_addr(Reader *rd, struct in6_addr *ret) {
        const uint8_t *p = reader_get(rd, sizeof ret->s6_addr);

        if (!p)
                return false;
        memcpy(ret->s6_addr, p, sizeof ret->s6_addr);
        return true;
}

static bool reader_mac(Reader *rd, MacAddr *ret) {
        const uint8_t *p = reader_get(rd, MAC_LEN);

        if (!p)
                return false;
        memcpy(ret->b, p, MAC_LEN);
        return true;
}

static int dropped(NdDrop reason, NdDrop *reterr_drop) {
        *reterr_drop = reason;
        return -EBADMSG;
}

/* One's complement sum of 16-bit big-endian words, a last odd byte padded with zero. */
static uint64_t sum_words(uint64_t sum, const uint8_t *p, size_t len) {
        for (; len >= 2; p += 2, len -= 2)
                sum += (uint32_t) p[0] << 8 | p[1];
        if (len > 0)
                sum += (uint32_t) p[0] << 8;
        return sum;
}

uint16_t nd_icmp6_checksum(const struct in6_addr *src, const struct in6_addr *dst,
                           const uint8_t *msg, size_t len) {
        uint64_t sum = 0;

        /* Pseudo-header: source, destination, 32-bit upper-layer length, 3 zero bytes,
         * next header. */
        sum = sum_words(sum, src->s6_addr, sizeof src->s6_addr);
        sum = sum_words(sum, dst->s6_addr, sizeof dst->s6_addr);
        sum += (len >> 16) & 0xffff;
        sum += len & 0xffff;
        sum += IPPROTO_ICMPV6;
        sum = sum_words(sum, msg, len);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t) ~sum;
}

static int parse_ethernet(Reader *rd, bool vlan_tagged, NdPacket *pkt, NdDrop *reterr_drop) {
        uint16_t ethertype;

        if (!reader_mac(rd, &pkt->eth_dst) || !reader_mac(rd, &pkt->eth_src) ||
            !reader_be16(rd, &ethertype))
                return dropped(ND_DROP_SHORT_FRAME, reterr_drop);
        /* A tagged frame belongs to another network (b/400590479): the kernel strips the
         * tag and reports it in PACKET_AUXDATA, or leaves it in the frame. */
        if (vlan_tagged || ethertype == ETH_P_8021Q || ethertype == ETH_P_8021AD ||
            ethertype == ETH_P_QINQ1)
                return dropped(ND_DROP_VLAN, reterr_drop);
        if (ethertype != ETH_P_IPV6)
                return dropped(ND_DROP_NOT_IPV6, reterr_drop);
        if (pkt->eth_src.b[0] & 0x01)
                return dropped(ND_DROP_ETH_SOURCE, reterr_drop);
        return 0;
}

/* The IPv6 header; leaves the reader at the ICMPv6 message, which ends the frame. */
static int parse_ipv6(Reader *rd, NdPacket *pkt, uint8_t *ret_hop_limit, NdDrop *reterr_drop) {
        uint32_t version_class_flow;
        uint16_t payload_len;
        uint8_t next_header, hop_limit;

        if (!reader_be32(rd, &version_class_flow) || !reader_be16(rd, &payload_len) ||
            !reader_u8(rd, &next_header) || !reader_u8(rd, &hop_limit) ||
            !reader_addr(rd, &pkt->src) || !reader_addr(rd, &pkt->dst))
                return dropped(ND_DROP_SHORT_FRAME, reterr_drop);
        if (version_class_flow >> 28 != 6)
                return dropped(ND_DROP_IP_VERSION, reterr_drop);
        /* The smallest ND frame (an RS without options) is 62 bytes, above Ethernet's
         * 60-byte minimum, so a valid frame is never padded: its end is the payload's. */
        if (payload_len != reader_left(rd))
                return dropped(ND_DROP_PAYLOAD_LENGTH, reterr_drop);
        if (is_extension_header(next_header))
                return dropped(ND_DROP_EXTENSION_HEADER, reterr_drop);
        if (next_header != IPPROTO_ICMPV6)
                return dropped(ND_DROP_NOT_ICMPV6, reterr_drop);
        /* RFC 4291 §2.5.3, §2.7: neither may appear as a source on a link. */
        if (nd_addr_is_multicast(&pkt->src) || nd_addr_is_loopback(&pkt->src))
                return dropped(ND_DROP_BAD_SOURCE, reterr_drop);
        if (nd_addr_is_unspecified(&pkt->dst) || nd_addr_is_loopback(&pkt->dst))
                return dropped(ND_DROP_BAD_DESTINATION, reterr_drop);
        *ret_hop_limit = hop_limit;
        return 0;
}

/* The fixed part of each message after type, code and checksum (RFC 4861 §4.1-§4.4). */
static int parse_body(Reader *rd, NdPacket *pkt, NdDrop *reterr_drop) {
        uint8_t na_flags;
        bool ok;

        switch (pkt->type) {
        case ND_TYPE_RS:
                ok = reader_skip(rd, 4);                                 /* reserved */
                break;
        case ND_TYPE_RA:
                ok = reader_u8(rd, &pkt->ra_cur_hop_limit) && reader_u8(rd, &pkt->ra_flags) &&
                     reader_be16(rd, &pkt->ra_router_lifetime) &&
                     reader_skip(rd, 8);                  /* reachable time, retrans timer */
                if (ok && (pkt->ra_flags & ND_RA_FLAG_PROXY))
                        pkt->flags |= ND_FLAG_PROXY;
                break;
        case ND_TYPE_NS:
                ok = reader_skip(rd, 4) && reader_addr(rd, &pkt->target);
                break;
        case ND_TYPE_NA:
                ok = reader_u8(rd, &na_flags) && reader_skip(rd, 3) &&
                     reader_addr(rd, &pkt->target);
                if (ok) {
                        if (na_flags & 0x80)
                                pkt->flags |= ND_FLAG_ROUTER;
                        if (na_flags & 0x40)
                                pkt->flags |= ND_FLAG_SOLICITED;
                        if (na_flags & 0x20)
                                pkt->flags |= ND_FLAG_OVERRIDE;
                }
                break;
        default:
                ok = false;
        }
        /* The type's minimum length was checked before: a short read is a bug, not input. */
        if (!ok)
                return dropped(ND_DROP_TOO_SHORT, reterr_drop);
        return 0;
}

static int parse_prefix(Reader *rd, NdPacket *pkt, NdDrop *reterr_drop) {
        NdPrefix *p;

        if (pkt->n_prefixes >= ND_PREFIXES_MAX)
                return dropped(ND_DROP_TOO_MANY_PREFIXES, reterr_drop);
        p = &pkt->prefixes[pkt->n_prefixes];
        if (!reader_u8(rd, &p->prefix_len) || !reader_u8(rd, &p->flags) ||
            !reader_be32(rd, &p->valid_lifetime) || !reader_be32(rd, &p->preferred_lifetime) ||
            !reader_skip(rd, 4) || !reader_addr(rd, &p->prefix))
                return dropped(ND_DROP_PREFIX_INFO, reterr_drop);
        if (p->prefix_len > 128)
                return dropped(ND_DROP_PREFIX_INFO, reterr_drop);
        pkt->n_prefixes++;
        return 0;
}

/*
 * The options, which must fill the rest of the message exactly (RFC 4861 §4.6). Each
 * starts with type and length in units of 8 bytes; a length of 0 discards the packet. The
 * one link-layer option a proxy rewrites is recorded; options this code does not
 * interpret are kept as they are, as §4.6 asks of receivers.
 */
static int parse_options(Reader *rd, NdPacket *pkt, NdDrop *reterr_drop) {
        uint8_t rewritten = pkt->type == ND_TYPE_NA ? ND_OPT_TARGET_LINKADDR :
                                                      ND_OPT_SOURCE_LINKADDR;
        int r;

        for (size_t n = 0; reader_left(rd) > 0; n++) {
                uint8_t type, units;
                size_t body;

                if (n >= ND_OPTIONS_MAX)
                        return dropped(ND_DROP_TOO_MANY_OPTIONS, reterr_drop);
                if (!reader_u8(rd, &type) || !reader_u8(rd, &units))
                        return dropped(ND_DROP_OPTION_TRUNCATED, reterr_drop);
                if (units == 0)
                        return dropped(ND_DROP_OPTION_ZERO_LENGTH, reterr_drop);
                body = (size_t) units * 8 - 2;
                if (body > reader_left(rd))
                        return dropped(ND_DROP_OPTION_TRUNCATED, reterr_drop);

                switch (type) {
                case ND_OPT_SOURCE_LINKADDR:
                case ND_OPT_TARGET_LINKADDR:
                        /* Ethernet: 6 address bytes, one unit (RFC 2464 §6). */
                        if (units != 1)
                                return dropped(ND_DROP_LLADDR_LENGTH, reterr_drop);
                        if (type != rewritten) {
                                (void) reader_skip(rd, body);
                                break;
                        }
                        /* A second copy would leave one original address in the proxied
                         * frame. */
                        if (pkt->lladdr_off != 0)
                                return dropped(ND_DROP_DUPLICATE_LLADDR, reterr_drop);
                        pkt->lladdr_off = rd->off;
                        (void) reader_mac(rd, &pkt->lladdr);
                        break;
                case ND_OPT_PREFIX_INFORMATION:
                        if (pkt->type != ND_TYPE_RA) {
                                (void) reader_skip(rd, body);
                                break;
                        }
                        if (units != 4)
                                return dropped(ND_DROP_PREFIX_INFO, reterr_drop);
                        r = parse_prefix(rd, pkt, reterr_drop);
                        if (r < 0)
                                return r;
                        break;
                default:
                        (void) reader_skip(rd, body);
                }
        }
        return 0;
}

/* The rules of RFC 4861 §6.1.1, §6.1.2, §7.1.1 and §7.1.2 that relate fields. */
static int check_rules(NdPacket *pkt, NdDrop *reterr_drop) {
        bool from_unspecified = nd_addr_is_unspecified(&pkt->src);

        switch (pkt->type) {
        case ND_TYPE_RS:
                if (from_unspecified && pkt->lladdr_off != 0)
                        return dropped(ND_DROP_UNSPECIFIED_LLADDR, reterr_drop);
                return 0;
        case ND_TYPE_RA:
                if (!nd_addr_is_link_local(&pkt->src))
                        return dropped(ND_DROP_RA_SOURCE, reterr_drop);
                return 0;
        case ND_TYPE_NS:
                if (nd_addr_is_multicast(&pkt->target))
                        return dropped(ND_DROP_TARGET_MULTICAST, reterr_drop);
                if (from_unspecified) {
                        if (!nd_addr_is_solicited_node(&pkt->dst))
                                return dropped(ND_DROP_DAD_DESTINATION, reterr_drop);
                        if (pkt->lladdr_off != 0)
                                return dropped(ND_DROP_UNSPECIFIED_LLADDR, reterr_drop);
                        pkt->flags |= ND_FLAG_DAD;
                }
                return 0;
        case ND_TYPE_NA:
                if (nd_addr_is_multicast(&pkt->target))
                        return dropped(ND_DROP_TARGET_MULTICAST, reterr_drop);
                /* §4.4: the source is an address of the sender's interface. */
                if (from_unspecified)
                        return dropped(ND_DROP_BAD_SOURCE, reterr_drop);
                if (nd_addr_is_multicast(&pkt->dst) && (pkt->flags & ND_FLAG_SOLICITED))
                        return dropped(ND_DROP_NA_SOLICITED_MULTICAST, reterr_drop);
                return 0;
        default:
                return dropped(ND_DROP_NOT_ND, reterr_drop);
        }
}

int nd_packet_parse(const uint8_t *frame, size_t len, bool vlan_tagged, NdPacket *ret,
                    NdDrop *reterr_drop) {
        NdPacket pkt = { .type = _ND_TYPE_INVALID };
        Reader rd = { .buf = frame, .len = frame ? len : 0 };
        uint8_t hop_limit, type, code;
        uint16_t checksum;
        size_t icmp_len;
        int r;

        r = parse_ethernet(&rd, vlan_tagged, &pkt, reterr_drop);
        if (r < 0)
                return r;
        r = parse_ipv6(&rd, &pkt, &hop_limit, reterr_drop);
        if (r < 0)
                return r;

        icmp_len = reader_left(&rd);
        if (!reader_u8(&rd, &type) || !reader_u8(&rd, &code) || !reader_be16(&rd, &checksum))
                return dropped(ND_DROP_TOO_SHORT, reterr_drop);
        pkt.type = nd_type_from_icmp6(type);
        if (pkt.type < 0)
                return dropped(ND_DROP_NOT_ND, reterr_drop);
        if (code != 0)
                return dropped(ND_DROP_CODE, reterr_drop);
        if (hop_limit != ND_HOP_LIMIT)
                return dropped(ND_DROP_HOP_LIMIT, reterr_drop);
        if (icmp_len < nd_min_len[pkt.type])
                return dropped(ND_DROP_TOO_SHORT, reterr_drop);
        if (nd_icmp6_checksum(&pkt.src, &pkt.dst, frame + ND_ICMP6_OFF, icmp_len) != 0)
                return dropped(ND_DROP_CHECKSUM, reterr_drop);

        r = parse_body(&rd, &pkt, reterr_drop);
        if (r < 0)
                return r;
        r = parse_options(&rd, &pkt, reterr_drop);
        if (r < 0)
                return r;
        r = check_rules(&pkt, reterr_drop);
        if (r < 0)
                return r;

        pkt.len = len;
        *ret = pkt;
        return 0;
}

int nd_packet_rewrite(const uint8_t *frame, const NdPacket *pkt, const MacAddr *egress_mac,
                      const MacAddr *dst_mac, unsigned flags, uint8_t *buf, size_t size,
                      size_t *ret_len) {
        static const MacAddr zero_mac = {};
        static const struct in6_addr all_nodes = {
                .s6_addr = { 0xff, 0x02, [15] = 0x01 },
        };
        struct in6_addr src, dst;
        uint16_t sum;

        if ((egress_mac->b[0] & 0x01) || memcmp(egress_mac, &zero_mac, sizeof zero_mac) == 0 ||
            memcmp(dst_mac, &zero_mac, sizeof zero_mac) == 0)
                return -EINVAL;
        if (flags & ~(unsigned) ND_REWRITE_RA_ALL_NODES)
                return -EINVAL;
        /* A packet that did not come from nd_packet_parse() must not steer the writes. */
        if (pkt->type < 0 || pkt->type >= _ND_TYPE_MAX ||
            pkt->len < ND_ICMP6_OFF + nd_min_len[pkt->type] ||
            (pkt->lladdr_off != 0 && (pkt->lladdr_off < ND_ICMP6_OFF ||
                                      pkt->lladdr_off > pkt->len - MAC_LEN)))
                return -EINVAL;
        if (size < pkt->len)
                return -ENOBUFS;

        if (buf != frame)
                memmove(buf, frame, pkt->len);
        memcpy(buf, dst_mac->b, MAC_LEN);
        memcpy(buf + MAC_LEN, egress_mac->b, MAC_LEN);
        if (pkt->lladdr_off != 0)
                memcpy(buf + pkt->lladdr_off, egress_mac->b, MAC_LEN);
        if (pkt->type == ND_TYPE_RA) {
                buf[ND_ICMP6_OFF + 5] |= ND_RA_FLAG_PROXY;
                if (flags & ND_REWRITE_RA_ALL_NODES)
                        memcpy(buf + ND_IP6_OFF + 24, all_nodes.s6_addr, sizeof all_nodes.s6_addr);
        }

        buf[ND_ICMP6_OFF + 2] = 0;
        buf[ND_ICMP6_OFF + 3] = 0;
        memcpy(src.s6_addr, buf + ND_IP6_OFF + 8, sizeof src.s6_addr);
        memcpy(dst.s6_addr, buf + ND_IP6_OFF + 24, sizeof dst.s6_addr);
        sum = nd_icmp6_checksum(&src, &dst, buf + ND_ICMP6_OFF, pkt->len - ND_ICMP6_OFF);
        buf[ND_ICMP6_OFF + 2] = (uint8_t) (sum >> 8);
        buf[ND_ICMP6_OFF + 3] = (uint8_t) sum;

        *ret_len = pkt->len;
        return 0;
}

int nd_packet_build_na(const NdPacket *ns, const MacAddr *mac, bool router, uint8_t *buf,
                       size_t size, size_t *ret_len) {
        static const struct in6_addr all_nodes = {
                .s6_addr = { 0xff, 0x02, [15] = 0x01 },
        };
        static const MacAddr zero_mac = {};
        const size_t icmp_len = 24 + 8, len = ND_ICMP6_OFF + icmp_len;
        bool dad = nd_addr_is_unspecified(&ns->src);
        const struct in6_addr *dst = dad ? &all_nodes : &ns->src;
        MacAddr dst_mac = ns->eth_src;
        uint8_t *ip = buf + ND_IP6_OFF, *icmp = buf + ND_ICMP6_OFF;
        uint16_t sum;

        if (ns->type != ND_TYPE_NS || (mac->b[0] & 0x01) ||
            memcmp(mac, &zero_mac, sizeof zero_mac) == 0)
                return -EINVAL;
        if (size < len)
                return -ENOBUFS;
        if (dad)
                (void) nd_multicast_mac(&all_nodes, &dst_mac);
        memset(buf, 0, len);
        memcpy(buf, dst_mac.b, MAC_LEN);
        memcpy(buf + MAC_LEN, mac->b, MAC_LEN);
        buf[12] = ETH_P_IPV6 >> 8;
        buf[13] = ETH_P_IPV6 & 0xff;
        ip[0] = 0x60;                                   /* version 6 */
        ip[4] = (uint8_t) (icmp_len >> 8);              /* payload length */
        ip[5] = (uint8_t) icmp_len;
        ip[6] = IPPROTO_ICMPV6;
        ip[7] = ND_HOP_LIMIT;
        memcpy(ip + 8, ns->target.s6_addr, 16);         /* source: the target */
        memcpy(ip + 24, dst->s6_addr, 16);
        icmp[0] = ND_NEIGHBOR_ADVERT;
        icmp[4] = (uint8_t) ((router ? 0x80 : 0) | (dad ? 0 : 0x40)); /* R, S; O clear */
        memcpy(icmp + 8, ns->target.s6_addr, 16);
        icmp[24] = ND_OPT_TARGET_LINKADDR;
        icmp[25] = 1;                                   /* 8 bytes */
        memcpy(icmp + 26, mac->b, MAC_LEN);
        sum = nd_icmp6_checksum(&ns->target, dst, icmp, icmp_len);
        icmp[2] = (uint8_t) (sum >> 8);
        icmp[3] = (uint8_t) sum;
        *ret_len = len;
        return 0;
}

int nd_multicast_mac(const struct in6_addr *addr, MacAddr *ret) {
        if (!nd_addr_is_multicast(addr))
                return -EINVAL;
        *ret = (MacAddr) { .b = { 0x33, 0x33, addr->s6_addr[12], addr->s6_addr[13],
                                  addr->s6_addr[14], addr->s6_addr[15] } };
        return 0;
}

bool nd_needs_neighbor_lookup(const struct in6_addr *dst) {
        return !nd_addr_is_multicast(dst);
}

int nd_learn_guest_address(const NdPacket *pkt, struct in6_addr *ret) {
        if (pkt->type != ND_TYPE_NA &&
            !(pkt->type == ND_TYPE_NS && (pkt->flags & ND_FLAG_DAD)))
                return -ENOMSG;
        if (!nd_addr_is_learnable(&pkt->target))
                return -EADDRNOTAVAIL;
        *ret = pkt->target;
        return 0;
}
