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

/* Key fields, each written at @k in its register layout. Return: its length. */
size_t nft_key_ifname(uint8_t *k, const char *name);  /* 16 */
size_t nft_key_u32_host(uint8_t *k, uint32_t v);      /* 4: mark, uid */
size_t nft_key_ipv4(uint8_t *k, uint32_t addr);       /* 4, addr in host order */
size_t nft_key_ipv6(uint8_t *k, const uint8_t addr[16]); /* 16 */
size_t nft_key_proto(uint8_t *k, uint8_t proto);      /* 4: one byte, padded */
size_t nft_key_port(uint8_t *k, uint16_t port);       /* 4: two bytes, network order, padded */

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

void nft_writer_init(NftWriter *w, void *buf, size_t size, uint32_t first_seq);

/* Each returns the sequence number of the message it appended. @family is NFPROTO_*. */
uint32_t nft_put_batch_begin(NftWriter *w);
uint32_t nft_put_batch_end(NftWriter *w);
uint32_t nft_put_setelem(NftWriter *w, bool add, uint8_t family, const char *table,
                         const char *set, const NftElem *e);
/* Add (if missing) or delete a regular chain. */
uint32_t nft_put_chain(NftWriter *w, bool add, uint8_t family, const char *table,
                       const char *chain);
/* Delete every rule of a chain. */
uint32_t nft_put_chain_flush(NftWriter *w, uint8_t family, const char *table, const char *chain);
/* Append "ct mark set ct mark & @mask | @value" to a chain. */
uint32_t nft_put_rule_ct_mark(NftWriter *w, uint8_t family, const char *table, const char *chain,
                              uint32_t mask, uint32_t value);
/* Ask for every element of a set (a dump). */
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
