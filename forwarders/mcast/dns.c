/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "dns.h"
#include "macro.h"

/*
 * Every read goes through need(): the comparison is written so it cannot wrap
 * (want > len - off, with off <= len checked first).
 */
static bool need(size_t len, size_t off, size_t want) {
        return off <= len && want <= len - off;
}

static uint16_t get16(const uint8_t *p) {
        return (uint16_t) ((unsigned) p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static int drop(McastDrop *reterr_drop, McastDrop reason) {
        if (reterr_drop)
                *reterr_drop = reason;
        return -EBADMSG;
}

static const char *const dns_section_names[_DNS_SECTION_MAX] = {
        [DNS_SECTION_QUESTION] = "question",
        [DNS_SECTION_ANSWER] = "answer",
        [DNS_SECTION_AUTHORITY] = "authority",
        [DNS_SECTION_ADDITIONAL] = "additional",
};

const char *dns_section_to_string(DnsSection s) {
        if (s < 0 || s >= _DNS_SECTION_MAX)
                return NULL;
        return dns_section_names[s];
}

/* Append to a log text of @size bytes, keeping room for the NUL; what does not fit is cut. */
static void text_put(char *buf, size_t size, size_t *text, bool *cut, const char *s, size_t n) {
        if (*cut || size - 1 - *text < n) {
                *cut = true;
                return;
        }
        memcpy(buf + *text, s, n);
        *text += n;
}

/* A label byte: letters, digits, '-' and '_' as they are, anything else as \DDD. */
static void text_put_byte(char *buf, size_t size, size_t *text, bool *cut, uint8_t b) {
        char tmp[4];

        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
            b == '-' || b == '_') {
                tmp[0] = (char) b;
                text_put(buf, size, text, cut, tmp, 1);
                return;
        }
        tmp[0] = '\\';
        tmp[1] = (char) ('0' + b / 100);
        tmp[2] = (char) ('0' + b / 10 % 10);
        tmp[3] = (char) ('0' + b % 10);
        text_put(buf, size, text, cut, tmp, 4);
}

/*
 * The one walk over a name, for checking and for printing. Labels are read in place until
 * the zero label or a pointer; a pointer must lie outside the header (RFC 1035 §4.1.4: it
 * refers to a prior occurrence of a name, and the header holds none) and strictly before the
 * run of labels it ends ("barrier"), so every jump goes to a lower offset and no loop can
 * form. With @labels (the reader's), every position read in place is marked there, and a
 * pointer must land on a marked one. With @buf, the name is written out as well
 * (dns_name_to_string()).
 */
static bool label_marked(const uint8_t *labels, size_t off) {
        return labels[off / 8] & (1u << (off % 8));
}

static void label_mark(uint8_t *labels, size_t off) {
        labels[off / 8] = (uint8_t) (labels[off / 8] | 1u << (off % 8));
}

static int dns_name_walk(const uint8_t *msg, size_t len, size_t off, uint8_t *labels,
                         size_t *ret_end, char *buf, size_t size, size_t *ret_text_len,
                         McastDrop *reterr_drop) {
        size_t pos = off, barrier = off, end = 0, wire = 0, text = 0;
        unsigned pointers = 0;
        bool jumped = false, cut = false;

        for (;;) {
                uint8_t c;

                if (!need(len, pos, 1))
                        return drop(reterr_drop, MCAST_DROP_DNS_NAME_TRUNCATED);
                c = msg[pos];
                if (labels && !jumped)
                        label_mark(labels, pos);

                if (c == 0) {
                        /* the label check below always leaves room for this octet */
                        if (!jumped)
                                end = pos + 1;
                        break;
                }

                switch (c & 0xc0) {
                case 0x00: {
                        /* A label of c octets, 1..63; with the zero label still to come the
                         * name must stay below DNS_NAME_MAX. */
                        if (!need(len, pos + 1, c))
                                return drop(reterr_drop, MCAST_DROP_DNS_NAME_TRUNCATED);
                        wire += 1u + c;
                        if (wire + 1 > DNS_NAME_MAX)
                                return drop(reterr_drop, MCAST_DROP_DNS_NAME_TOO_LONG);
                        if (buf) {
                                if (text > 0)
                                        text_put(buf, size, &text, &cut, ".", 1);
                                for (size_t i = pos + 1; i <= pos + c; i++)
                                        text_put_byte(buf, size, &text, &cut, msg[i]);
                        }
                        pos += 1u + c;
                        break;
                }

                case 0xc0: {
                        size_t target;

                        if (!need(len, pos, 2))
                                return drop(reterr_drop, MCAST_DROP_DNS_NAME_TRUNCATED);
                        target = (size_t) (c & 0x3f) << 8 | msg[pos + 1];
                        if (!jumped) {
                                end = pos + 2;
                                jumped = true;
                        }
                        if (target < DNS_HEADER_SIZE)
                                return drop(reterr_drop, MCAST_DROP_DNS_POINTER_HEADER);
                        if (target >= barrier)
                                return drop(reterr_drop, MCAST_DROP_DNS_POINTER_FORWARD);
                        if (labels && !label_marked(labels, target))
                                return drop(reterr_drop, MCAST_DROP_DNS_POINTER_NOT_NAME);
                        if (++pointers > DNS_POINTERS_MAX)
                                return drop(reterr_drop, MCAST_DROP_DNS_POINTER_CHAIN);
                        barrier = pos = target;
                        break;
                }

                default:
                        /* 0x40 (extended label types, RFC 6891 §5) and 0x80 (reserved) */
                        return drop(reterr_drop, MCAST_DROP_DNS_LABEL_TYPE);
                }
        }

        if (buf) {
                if (text == 0)
                        text_put(buf, size, &text, &cut, ".", 1); /* the root */
                buf[text] = '\0';
                *ret_text_len = text;
                if (cut)
                        return -ENOBUFS;
        }
        *ret_end = end;
        return 0;
}

int dns_name_check(const uint8_t *msg, size_t len, size_t off, size_t *ret_end,
                   McastDrop *reterr_drop) {
        return dns_name_walk(msg, len, off, NULL, ret_end, NULL, 0, NULL, reterr_drop);
}

int dns_name_to_string(const uint8_t *msg, size_t len, size_t off, char *buf, size_t size) {
        size_t end, text = 0;
        int r;

        if (!buf || size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        r = dns_name_walk(msg, len, off, NULL, &end, buf, size, &text, NULL);
        if (r == -EBADMSG) {
                buf[0] = '\0';
                return r;
        }
        if (r < 0)
                return r;
        return (int) text;
}

/* A name inside RDATA: it must check and end by @rdata_end. */
static int rdata_name(const uint8_t *msg, size_t len, uint8_t *labels, size_t off,
                      size_t rdata_end, size_t *ret_end, McastDrop *reterr_drop) {
        size_t end;
        int r;

        if (off >= rdata_end)
                return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
        r = dns_name_walk(msg, len, off, labels, &end, NULL, 0, NULL, reterr_drop);
        if (r < 0)
                return r;
        if (end > rdata_end)
                return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
        *ret_end = end;
        return 0;
}

/* RFC 1035 §3.3 <character-string>s filling [off, end) exactly; @n_exact 0 = any number. */
static int rdata_strings(const uint8_t *msg, size_t off, size_t end, unsigned n_exact,
                         McastDrop *reterr_drop) {
        unsigned n = 0;

        while (off < end) {
                uint8_t l = msg[off];

                if (l > end - off - 1)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
                off += 1u + l;
                n++;
        }
        if (n_exact > 0 && n != n_exact)
                return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
        return 0;
}

/* RFC 4034 §4.1.2: window blocks in increasing order, each 1..32 octets of bitmap. */
static int rdata_type_bitmaps(const uint8_t *msg, size_t off, size_t end,
                              McastDrop *reterr_drop) {
        int previous = -1;

        while (off < end) {
                uint8_t window, blen;

                if (end - off < 2)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
                window = msg[off];
                blen = msg[off + 1];
                if (window <= previous || blen == 0 || blen > 32 || blen > end - off - 2)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
                previous = window;
                off += 2u + blen;
        }
        return 0;
}

/*
 * The RDATA of the types whose layout is known (RFC 1035 §3.3, RFC 1183, RFC 2163,
 * RFC 2230, RFC 3596, RFC 2782, RFC 6672, RFC 4034 §4.1; RFC 6762 §18.14 lets all of the
 * name-carrying ones compress their names). A fixed part that does not fit is a wrong
 * length; names and strings that do not end exactly at the end of the RDATA are malformed.
 * Other types are opaque: nothing in them counts as a name a pointer may land on.
 */
static int dns_rdata_check(const uint8_t *msg, size_t len, uint8_t *labels,
                           const DnsRecord *rr, McastDrop *reterr_drop) {
        size_t off = rr->rdata_offset, end = rr->rdata_offset + rr->rdlength, e;
        int r;

        switch (rr->type) {
        case DNS_TYPE_A:
                if (rr->rdlength != 4)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_LENGTH);
                return 0;
        case DNS_TYPE_AAAA:
                if (rr->rdlength != 16)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_LENGTH);
                return 0;
        case DNS_TYPE_NS:
        case DNS_TYPE_CNAME:
        case DNS_TYPE_PTR:
        case DNS_TYPE_DNAME:
                r = rdata_name(msg, len, labels, off, end, &e, reterr_drop);
                break;
        case DNS_TYPE_MX:
        case DNS_TYPE_AFSDB:
        case DNS_TYPE_RT:
        case DNS_TYPE_KX:
        case DNS_TYPE_SRV: {
                /* a 16-bit preference or subtype; SRV: priority, weight, port */
                size_t fixed = rr->type == DNS_TYPE_SRV ? 6 : 2;

                if (rr->rdlength < fixed + 1)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_LENGTH);
                r = rdata_name(msg, len, labels, off + fixed, end, &e, reterr_drop);
                break;
        }
        case DNS_TYPE_RP:
        case DNS_TYPE_PX:
        case DNS_TYPE_SOA:
                /* RP: mailbox, TXT owner; PX: preference, MAP822, MAPX400; SOA: MNAME, RNAME */
                if (rr->type == DNS_TYPE_PX) {
                        if (rr->rdlength < 3)
                                return drop(reterr_drop, MCAST_DROP_DNS_RDATA_LENGTH);
                        off += 2;
                }
                r = rdata_name(msg, len, labels, off, end, &e, reterr_drop);
                if (r < 0)
                        return r;
                r = rdata_name(msg, len, labels, e, end, &e, reterr_drop);
                if (r < 0 || rr->type != DNS_TYPE_SOA)
                        break;
                /* serial, refresh, retry, expire, minimum */
                if (end - e != 20)
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_LENGTH);
                return 0;
        case DNS_TYPE_TXT:
                /* An empty TXT is what some responders send for "no keys"; RFC 6763 §6.1
                 * asks receivers to take it as a single empty string. */
                return rdata_strings(msg, off, end, 0, reterr_drop);
        case DNS_TYPE_HINFO:
                return rdata_strings(msg, off, end, 2, reterr_drop);
        case DNS_TYPE_NSEC:
                r = rdata_name(msg, len, labels, off, end, &e, reterr_drop);
                if (r < 0)
                        return r;
                return rdata_type_bitmaps(msg, e, end, reterr_drop);
        default:
                return 0;
        }
        if (r < 0)
                return r;
        if (e != end)
                return drop(reterr_drop, MCAST_DROP_DNS_RDATA_MALFORMED);
        return 0;
}

int dns_reader_init(DnsReader *r, const uint8_t *msg, size_t len, McastDrop *reterr_drop) {
        DnsHeader h;

        if (!msg || len < DNS_HEADER_SIZE)
                return drop(reterr_drop, MCAST_DROP_DNS_SHORT_HEADER);
        if (len > DNS_MESSAGE_MAX)
                return drop(reterr_drop, MCAST_DROP_DNS_TOO_LONG);

        h = (DnsHeader) {
                .id = get16(msg),
                .flags = get16(msg + 2),
                .qdcount = get16(msg + 4),
                .ancount = get16(msg + 6),
                .nscount = get16(msg + 8),
                .arcount = get16(msg + 10),
        };
        /* Four 16-bit counts: the sum fits easily in an unsigned. */
        if ((unsigned) h.qdcount + h.ancount + h.nscount + h.arcount > DNS_RECORDS_MAX)
                return drop(reterr_drop, MCAST_DROP_DNS_TOO_MANY_RECORDS);

        *r = (DnsReader) {
                .msg = msg,
                .len = len,
                .off = DNS_HEADER_SIZE,
                .header = h,
                .total = (unsigned) h.qdcount + h.ancount + h.nscount + h.arcount,
        };
        return 0;
}

int dns_reader_next(DnsReader *r, DnsRecord *ret, McastDrop *reterr_drop) {
        const DnsHeader *h = &r->header;
        DnsRecord rr = {};
        size_t end;
        int k;

        if (r->next >= r->total) {
                if (r->off != r->len)
                        return drop(reterr_drop, MCAST_DROP_DNS_TRAILING_BYTES);
                return 0;
        }

        if (r->next < h->qdcount)
                rr.section = DNS_SECTION_QUESTION;
        else if (r->next < (unsigned) h->qdcount + h->ancount)
                rr.section = DNS_SECTION_ANSWER;
        else if (r->next < (unsigned) h->qdcount + h->ancount + h->nscount)
                rr.section = DNS_SECTION_AUTHORITY;
        else
                rr.section = DNS_SECTION_ADDITIONAL;

        rr.name_offset = r->off;
        k = dns_name_walk(r->msg, r->len, r->off, r->labels, &end, NULL, 0, NULL, reterr_drop);
        if (k < 0)
                return k;

        if (rr.section == DNS_SECTION_QUESTION) {
                /* QTYPE, QCLASS (RFC 1035 §4.1.2) */
                if (!need(r->len, end, 4))
                        return drop(reterr_drop, MCAST_DROP_DNS_TRUNCATED);
                rr.type = get16(r->msg + end);
                rr.class = get16(r->msg + end + 2);
                r->off = end + 4;
        } else {
                /* TYPE, CLASS, TTL, RDLENGTH, RDATA (RFC 1035 §4.1.3) */
                if (!need(r->len, end, 10))
                        return drop(reterr_drop, MCAST_DROP_DNS_TRUNCATED);
                rr.type = get16(r->msg + end);
                rr.class = get16(r->msg + end + 2);
                rr.ttl = get32(r->msg + end + 4);
                rr.rdlength = get16(r->msg + end + 8);
                rr.rdata_offset = end + 10;
                if (!need(r->len, rr.rdata_offset, rr.rdlength))
                        return drop(reterr_drop, MCAST_DROP_DNS_RDATA_TRUNCATED);
                k = dns_rdata_check(r->msg, r->len, r->labels, &rr, reterr_drop);
                if (k < 0)
                        return k;
                r->off = rr.rdata_offset + rr.rdlength;
        }

        r->next++;
        *ret = rr;
        return 1;
}

static bool dns_record_is_a_in(const DnsRecord *rr) {
        return rr->section != DNS_SECTION_QUESTION && rr->type == DNS_TYPE_A &&
                (rr->class & ~DNS_CLASS_MDNS_FLAG) == DNS_CLASS_IN;
}

int mdns_validate(const uint8_t *msg, size_t len, MdnsInfo *ret_info, McastDrop *reterr_drop) {
        MdnsInfo info = {};
        DnsReader r;
        DnsRecord rr;
        int k;

        k = dns_reader_init(&r, msg, len, reterr_drop);
        if (k < 0)
                return k;
        if (dns_header_opcode(&r.header) != 0)
                return drop(reterr_drop, MCAST_DROP_DNS_OPCODE);
        if (dns_header_rcode(&r.header) != 0)
                return drop(reterr_drop, MCAST_DROP_DNS_RCODE);
        if (r.total == 0)
                return drop(reterr_drop, MCAST_DROP_DNS_EMPTY);

        while ((k = dns_reader_next(&r, &rr, reterr_drop)) > 0) {
                if (rr.section != DNS_SECTION_QUESTION)
                        info.n_records++;
                if (dns_record_is_a_in(&rr))
                        info.n_a++;
        }
        if (k < 0)
                return k;

        info.header = r.header;
        info.is_query = !(r.header.flags & DNS_FLAG_QR);
        info.truncated = r.header.flags & DNS_FLAG_TC;
        if (ret_info)
                *ret_info = info;
        return 0;
}

int mdns_rewrite_a(uint8_t *msg, size_t len, uint32_t from, uint32_t to, McastDrop *reterr_drop) {
        const uint8_t want[4] = { (uint8_t) (from >> 24), (uint8_t) (from >> 16),
                                  (uint8_t) (from >> 8), (uint8_t) from };
        const uint8_t put[4] = { (uint8_t) (to >> 24), (uint8_t) (to >> 16),
                                 (uint8_t) (to >> 8), (uint8_t) to };
        MdnsInfo info;
        DnsReader r;
        DnsRecord rr;
        int k, n = 0;

        /* Check everything before touching anything. */
        k = mdns_validate(msg, len, &info, reterr_drop);
        if (k < 0)
                return k;
        if (info.is_query || info.n_a == 0)
                return 0;

        /* Cannot fail: the same walk just succeeded. Writing while walking is safe: no name
         * is made of A RDATA (pointers land on labels only), and nothing else changes. */
        k = dns_reader_init(&r, msg, len, NULL);
        if (k < 0)
                return k;
        while ((k = dns_reader_next(&r, &rr, NULL)) > 0)
                if (dns_record_is_a_in(&rr) && memcmp(msg + rr.rdata_offset, want, 4) == 0) {
                        memcpy(msg + rr.rdata_offset, put, 4);
                        n++;
                }
        if (k < 0)
                return k;
        return n;
}
