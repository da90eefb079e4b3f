/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * DNS messages as mDNS carries them (RFC 1035 §4.1, RFC 6762 §18): a bounds-checked reader
 * that walks the header, the questions and the three record sections, checks every name
 * (labels, compression pointers, length) and the RDATA of the types whose layout it knows,
 * and the two uses mcastd has for it:
 *
 *   mdns_validate()   is this payload fit to forward? A malformed message is dropped with a
 *                     reason, never forwarded: blindly repeated malformed mDNS has crashed
 *                     receivers (peers.md §7);
 *   mdns_rewrite_a()  the IPv4 A-record rewrite of a guest's answer leaving by the uplink
 *                     (reference §8.2), in place.
 *
 * Nothing here allocates or keeps state; offsets are into the caller's buffer.
 *
 * Compression pointers (RFC 1035 §4.1.4) must point strictly before the run of labels that
 * contains them. A pointer to the name's own labels or further on is how loops are built,
 * and a real encoder only ever points at an earlier occurrence, so this rule refuses every
 * loop by construction; DNS_POINTERS_MAX additionally bounds the work per name. The reader
 * also requires a pointer to land where an earlier name had a label (a "prior occurrence"
 * of a name, as RFC 1035 puts it), not in a TTL, a length or an address: so no name is ever
 * made of A RDATA, and rewriting an address cannot change a name (found by fuzzing: a name
 * pointing into an A record's address turned into a forward pointer once rewritten).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mcast-drop.h"

#define DNS_HEADER_SIZE 12u
#define DNS_MESSAGE_MAX 9000u   /* RFC 6762 §17: no mDNS packet exceeds 9000 bytes */
#define DNS_RECORDS_MAX 512u    /* questions plus records; 9000 bytes hold at most ~750 */
#define DNS_NAME_MAX 255u       /* octets of a name's wire form (RFC 1035 §3.1) */
#define DNS_POINTERS_MAX 127u   /* one per label of the longest name is more than enough */
#define DNS_NAME_STRLEN (DNS_NAME_MAX * 4u + 1u) /* dns_name_to_string(), every byte as \DDD */

#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_TC 0x0200u
#define DNS_CLASS_IN 1u
#define DNS_CLASS_MDNS_FLAG 0x8000u /* cache-flush in records, unicast-response in questions */

enum {
        DNS_TYPE_A = 1,
        DNS_TYPE_NS = 2,
        DNS_TYPE_CNAME = 5,
        DNS_TYPE_SOA = 6,
        DNS_TYPE_PTR = 12,
        DNS_TYPE_HINFO = 13,
        DNS_TYPE_MX = 15,
        DNS_TYPE_TXT = 16,
        DNS_TYPE_RP = 17,
        DNS_TYPE_AFSDB = 18,
        DNS_TYPE_RT = 21,
        DNS_TYPE_PX = 26,
        DNS_TYPE_AAAA = 28,
        DNS_TYPE_SRV = 33,
        DNS_TYPE_KX = 36,
        DNS_TYPE_DNAME = 39,
        DNS_TYPE_NSEC = 47,
};

typedef enum DnsSection {
        DNS_SECTION_QUESTION,
        DNS_SECTION_ANSWER,
        DNS_SECTION_AUTHORITY,
        DNS_SECTION_ADDITIONAL,
        _DNS_SECTION_MAX,
        _DNS_SECTION_INVALID = -EINVAL,
} DnsSection;

typedef struct DnsHeader {
        uint16_t id;
        uint16_t flags;         /* QR, OPCODE, AA, TC, RD, RA, Z, AD, CD, RCODE */
        uint16_t qdcount;
        uint16_t ancount;
        uint16_t nscount;
        uint16_t arcount;
} DnsHeader;

/* A question or a resource record, as offsets into the message. */
typedef struct DnsRecord {
        DnsSection section;
        size_t name_offset;     /* the owner name (or the question's name) */
        uint16_t type;
        uint16_t class;         /* with DNS_CLASS_MDNS_FLAG as sent */
        uint32_t ttl;           /* 0 for a question */
        size_t rdata_offset;    /* 0 for a question */
        uint16_t rdlength;      /* 0 for a question */
} DnsRecord;

/* The cursor of dns_reader_init()/dns_reader_next(); its fields are the reader's. */
typedef struct DnsReader {
        const uint8_t *msg;
        size_t len;
        size_t off;
        DnsHeader header;
        unsigned next;          /* index of the next entry, questions first */
        unsigned total;         /* qdcount + ancount + nscount + arcount */
        /* one bit per offset where a label, a zero label or a pointer of a name was read in
         * place: where later compression pointers may land */
        uint8_t labels[(DNS_MESSAGE_MAX + 7) / 8];
} DnsReader;

/* What mdns_validate() tells about a message it accepts. */
typedef struct MdnsInfo {
        DnsHeader header;
        bool is_query;          /* QR clear */
        bool truncated;         /* TC: a query whose known answers continue (RFC 6762 §7.2) */
        unsigned n_records;     /* answer + authority + additional */
        unsigned n_a;           /* A records of class IN, in any record section */
} MdnsInfo;

static inline unsigned dns_header_opcode(const DnsHeader *h) {
        return (h->flags >> 11) & 0xfu;
}

static inline unsigned dns_header_rcode(const DnsHeader *h) {
        return h->flags & 0xfu;
}

/*
 * dns_section_to_string() - the name of a message section.
 * @s: the section
 *
 * Return: "question", "answer", "authority" or "additional"; NULL out of range.
 */
const char *dns_section_to_string(DnsSection s);

/*
 * dns_reader_init() - start reading a message: the header, its size and its counts.
 * @r: the cursor to set up
 * @msg: the message (a UDP payload)
 * @len: its length
 * @reterr_drop: why the message is refused, on -EBADMSG
 *
 * Return: 0, or -EBADMSG: shorter than a header, longer than DNS_MESSAGE_MAX, or more than
 * DNS_RECORDS_MAX entries announced.
 */
int dns_reader_init(DnsReader *r, const uint8_t *msg, size_t len, McastDrop *reterr_drop);

/*
 * dns_reader_next() - the next question or record, with its name and RDATA checked: names
 * inside the RDATA of the types RFC 6762 §18.14 lets mDNS compress (NS, CNAME, PTR, DNAME,
 * SOA, MX, AFSDB, RT, KX, RP, PX, SRV, NSEC), the lengths of A and AAAA, the
 * character-strings of TXT and HINFO, NSEC type bitmaps. Compression pointers must land on
 * a label of a name read before.
 * @r: the cursor
 * @ret: the entry; set on 1 only
 * @reterr_drop: why the message is refused, on -EBADMSG
 *
 * After the last entry the message must end: bytes left over are an error.
 * Return: 1 with an entry, 0 at the end of a well-formed message, -EBADMSG.
 */
int dns_reader_next(DnsReader *r, DnsRecord *ret, McastDrop *reterr_drop);

/*
 * dns_name_check() - check the name at @off on its own: labels of 1..63 octets, compression
 * pointers strictly backwards and outside the header, at most DNS_POINTERS_MAX of them, at
 * most DNS_NAME_MAX octets in all. (Where pointers land is checked by the reader, which
 * knows where the message's names are.)
 * @msg: the whole message (pointers are offsets into it)
 * @len: its length
 * @off: where the name starts
 * @ret_end: where the name ends in place (after its zero label or first pointer)
 * @reterr_drop: why the name is refused, on -EBADMSG
 *
 * Return: 0, or -EBADMSG.
 */
int dns_name_check(const uint8_t *msg, size_t len, size_t off, size_t *ret_end,
                   McastDrop *reterr_drop);

/*
 * dns_name_to_string() - a checked name for a log line: labels joined by '.', the root as
 * ".", bytes other than letters, digits, '-' and '_' as \DDD (so '.' inside a label, spaces
 * and control bytes cannot pass for something else).
 * @msg: the message
 * @len: its length
 * @off: where the name starts
 * @buf: where the text goes, at least DNS_NAME_STRLEN bytes to never cut a name short
 * @size: the size of @buf
 *
 * Return: the length of the text, or -EBADMSG if the name does not check (@buf is then ""),
 * -ENOBUFS if it was cut to fit @buf (which is still terminated).
 */
int dns_name_to_string(const uint8_t *msg, size_t len, size_t off, char *buf, size_t size);

/*
 * mdns_validate() - is this UDP payload an mDNS message fit to forward? Every entry is read
 * (dns_reader_next()); OPCODE and RCODE must be 0 (RFC 6762 §18.3, §18.11: receivers ignore
 * anything else, so forwarding it only spends bandwidth); a message without a single entry is
 * refused. The source port is the caller's to judge (mcast_fwd_decide() does).
 * @msg: the payload
 * @len: its length
 * @ret_info: what the message is; set on 0 only; may be NULL
 * @reterr_drop: why it is refused, on -EBADMSG
 *
 * Return: 0, or -EBADMSG.
 */
int mdns_validate(const uint8_t *msg, size_t len, MdnsInfo *ret_info, McastDrop *reterr_drop);

/*
 * mdns_rewrite_a() - in a response (QR set, RCODE 0), rewrite in place every A record of
 * class IN (cache-flush bit or not), in any record section, whose address is @from, to @to
 * (reference §8.2: a guest's answer leaving by the uplink names the uplink's address, which
 * the LAN can reach through the NAT). AAAA records, other addresses, questions and queries
 * are left alone. The message is validated first (mdns_validate()), so a message that is
 * refused is not touched at all and a rewritten one has the same length and still validates.
 * @msg: the payload, rewritten in place
 * @len: its length
 * @from: the guest's address, host byte order
 * @to: the uplink's address, host byte order
 * @reterr_drop: why the message is refused, on -EBADMSG
 *
 * Return: how many records were rewritten (0 for a query), or -EBADMSG.
 */
int mdns_rewrite_a(uint8_t *msg, size_t len, uint32_t from, uint32_t to, McastDrop *reterr_drop);
