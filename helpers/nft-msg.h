/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * nf_tables messages as bytes: the few kinds the helper sends per request (set elements,
 * one kind of chain and rule, a batch around them, a dump of a set's elements) and the
 * reading of a set's elements from a dump. No socket here: firewall.c sends and receives,
 * and the unit tests check the bytes.
 *
 * Keys and data are in nftables' register layout, which is what the kernel compares: each
 * field of a concatenation takes a multiple of 4 bytes, zero-padded; addresses and ports in
 * network order, marks and uids in host order, an ifname as IFNAMSIZ bytes zero-padded.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFT_IFNAME_KEY 16       /* IFNAMSIZ */
#define NFT_KEY_MAX 32          /* the longest key of the daemon's sets: ifname . ipv6_addr */
#define NFT_DATA_MAX 16
#define NFT_CHAIN_NAME_MAX 32

/*
 * nft_key_ifname() - an interface name as a key field: IFNAMSIZ bytes, zero-padded.
 * @k: where to write (16 bytes)
 * @name: a valid interface name (ifname_is_valid()); longer ones are cut at 15 bytes
 * Return: 16.
 */
size_t nft_key_ifname(uint8_t *k, const char *name);
/* nft_key_u32_host() - a mark or a uid: 4 bytes, host order. Return: 4. */
size_t nft_key_u32_host(uint8_t *k, uint32_t v);
/* nft_key_ipv4() - an IPv4 address given in host order: 4 bytes, network order. Return: 4. */
size_t nft_key_ipv4(uint8_t *k, uint32_t addr);
/* nft_key_ipv6() - an IPv6 address: its 16 bytes. Return: 16. */
size_t nft_key_ipv6(uint8_t *k, const uint8_t addr[16]);
/* nft_key_proto() - an IP protocol number: one byte, zero-padded to 4. Return: 4. */
size_t nft_key_proto(uint8_t *k, uint8_t proto);
/* nft_key_port() - a port: two bytes in network order, zero-padded to 4. Return: 4. */
size_t nft_key_port(uint8_t *k, uint16_t port);

/* One element of a set or map: a key (and its end, for an interval of a concatenation),
 * and for a map its data, or for a verdict map a jump to @jump. */
typedef struct NftElem {
        uint8_t key[NFT_KEY_MAX], key_end[NFT_KEY_MAX];
        uint8_t key_len, key_end_len;  /* key_end_len 0: no end */
        uint8_t data[NFT_DATA_MAX];
        uint8_t data_len;              /* 0: no data */
        char jump[NFT_CHAIN_NAME_MAX]; /* "": no verdict */
} NftElem;

/* Messages appended one after another into one buffer, numbered from a first sequence
 * number; once one does not fit, nothing more is appended and overflow stays set. */
typedef struct NftWriter {
        uint8_t *buf;
        size_t size, len;
        uint32_t seq;   /* the next message's */
        bool overflow;
} NftWriter;

/*
 * nft_writer_init() - start writing messages into a buffer.
 * @w: the writer
 * @buf: the buffer, aligned for a netlink header
 * @size: its size
 * @first_seq: the sequence number of the first message
 */
void nft_writer_init(NftWriter *w, void *buf, size_t size, uint32_t first_seq);

/*
 * The nft_put_*() below append one message each (every one but the batch's ends and the
 * dump asks for its ack) and return its sequence number; @family is NFPROTO_*.
 *
 * nft_put_batch_begin() - NFNL_MSG_BATCH_BEGIN for nf_tables.
 */
uint32_t nft_put_batch_begin(NftWriter *w);
/* nft_put_batch_end() - NFNL_MSG_BATCH_END: the kernel applies the batch. */
uint32_t nft_put_batch_end(NftWriter *w);
/*
 * nft_put_setelem() - NFT_MSG_NEWSETELEM (NLM_F_CREATE: an element already there is fine)
 * or NFT_MSG_DELSETELEM (key and key end only) of one element.
 * @add: add, or delete
 * @table: the set's table
 * @set: the set
 * @e: the element
 */
uint32_t nft_put_setelem(NftWriter *w, bool add, uint8_t family, const char *table,
                         const char *set, const NftElem *e);
/* nft_put_chain() - NFT_MSG_NEWCHAIN (if missing) or NFT_MSG_DELCHAIN of a regular chain. */
uint32_t nft_put_chain(NftWriter *w, bool add, uint8_t family, const char *table,
                       const char *chain);
/* nft_put_chain_flush() - NFT_MSG_DELRULE of a chain: every rule of it. */
uint32_t nft_put_chain_flush(NftWriter *w, uint8_t family, const char *table, const char *chain);
/*
 * nft_put_rule_ct_mark() - NFT_MSG_NEWRULE appending "ct mark set ct mark & @mask | @value"
 * to @chain: ct load mark into register 1, bitwise (and @mask, xor @value), ct set mark.
 * @mask: the bits kept, host order as the mark
 * @value: the bits set (outside @mask)
 */
uint32_t nft_put_rule_ct_mark(NftWriter *w, uint8_t family, const char *table, const char *chain,
                              uint32_t mask, uint32_t value);
/* nft_put_getsetelem() - NFT_MSG_GETSETELEM with NLM_F_DUMP: every element of a set. */
uint32_t nft_put_getsetelem(NftWriter *w, uint8_t family, const char *table, const char *set);

/* An element as a dump shows it: its key and, if it has one, its counter. */
typedef struct NftElemSeen {
        const uint8_t *key;
        size_t key_len;
        bool has_counter;
        uint64_t packets, bytes;
} NftElemSeen;

typedef int (*nft_elem_fn)(const NftElemSeen *e, void *userdata);

/*
 * nft_setelem_msg_parse() - the elements of one NFT_MSG_NEWSETELEM message of a dump.
 * @msg: the message, from its netlink header
 * @len: bytes available at @msg (at least the header's nlmsg_len)
 * @fn: called for each element in order; a negative return stops the parse and is returned
 *
 * Return: 0, or -EBADMSG for a message that is not one (bad lengths, an element without a
 * key, a counter without both numbers), or what @fn returned.
 */
int nft_setelem_msg_parse(const void *msg, size_t len, nft_elem_fn fn, void *userdata);
