/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

#include "nft-msg.h"

/* The longest message built here (an element with every part is ~300 bytes). */
#define NFT_MSG_MAX 1024

size_t nft_key_ifname(uint8_t *k, const char *name) {
        memset(k, 0, NFT_IFNAME_KEY);
        memcpy(k, name, strnlen(name, NFT_IFNAME_KEY - 1));
        return NFT_IFNAME_KEY;
}

size_t nft_key_u32_host(uint8_t *k, uint32_t v) {
        memcpy(k, &v, sizeof v);
        return 4;
}

size_t nft_key_ipv4(uint8_t *k, uint32_t addr) {
        uint32_t be = htonl(addr);

        memcpy(k, &be, sizeof be);
        return 4;
}

size_t nft_key_ipv6(uint8_t *k, const uint8_t addr[16]) {
        memcpy(k, addr, 16);
        return 16;
}

size_t nft_key_proto(uint8_t *k, uint8_t proto) {
        memset(k, 0, 4);
        k[0] = proto;
        return 4;
}

size_t nft_key_port(uint8_t *k, uint16_t port) {
        uint16_t be = htons(port);

        memset(k, 0, 4);
        memcpy(k, &be, sizeof be);
        return 4;
}

void nft_writer_init(NftWriter *w, void *buf, size_t size, uint32_t first_seq) {
        *w = (NftWriter) { .buf = buf, .size = size, .seq = first_seq };
}

static size_t nft_room(const NftWriter *w) {
        return w->size - w->len;
}

/* A message's header and nfgenmsg at the end of the buffer, or NULL when they do not fit. */
static struct nlmsghdr *nft_put_header(NftWriter *w, uint16_t type, uint16_t flags,
                                       uint8_t family, uint16_t res_id) {
        struct nlmsghdr *nlh;
        struct nfgenmsg *g;

        if (w->overflow || w->size - w->len < NLMSG_ALIGN(NLMSG_HDRLEN + sizeof *g)) {
                w->overflow = true;
                return NULL;
        }
        /* Padding goes to the kernel too: zeroed, as libmnl leaves it as it finds it. */
        memset(w->buf + w->len, 0, nft_room(w) < NFT_MSG_MAX ? nft_room(w) : NFT_MSG_MAX);
        nlh = mnl_nlmsg_put_header(w->buf + w->len);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = (uint16_t) (NLM_F_REQUEST | flags);
        nlh->nlmsg_seq = w->seq;
        g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
        g->nfgen_family = family;
        g->version = NFNETLINK_V0;
        g->res_id = htons(res_id);
        return nlh;
}

/* Close a message: counted if every attribute fit, else the writer has overflowed. */
static uint32_t nft_put_end(NftWriter *w, struct nlmsghdr *nlh, bool ok) {
        if (!nlh)
                return w->seq;
        if (!ok || nlh->nlmsg_len > NFT_MSG_MAX) {
                w->overflow = true;
                return w->seq;
        }
        w->len += NLMSG_ALIGN(nlh->nlmsg_len);
        return w->seq++;
}

static uint16_t nft_type(uint8_t msg) {
        return (uint16_t) (NFNL_SUBSYS_NFTABLES << 8 | msg);
}

uint32_t nft_put_batch_begin(NftWriter *w) {
        struct nlmsghdr *nlh = nft_put_header(w, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC,
                                              NFNL_SUBSYS_NFTABLES);
        return nft_put_end(w, nlh, true);
}

uint32_t nft_put_batch_end(NftWriter *w) {
        struct nlmsghdr *nlh = nft_put_header(w, NFNL_MSG_BATCH_END, 0, AF_UNSPEC,
                                              NFNL_SUBSYS_NFTABLES);
        return nft_put_end(w, nlh, true);
}

/* An nft_data nest holding a value. */
static bool nft_put_data(struct nlmsghdr *nlh, size_t room, uint16_t type, const void *v,
                         size_t len) {
        struct nlattr *nest = mnl_attr_nest_start_check(nlh, room, type);

        if (!nest || !mnl_attr_put_check(nlh, room, NFTA_DATA_VALUE, len, v))
                return false;
        mnl_attr_nest_end(nlh, nest);
        return true;
}

static bool nft_put_verdict_jump(struct nlmsghdr *nlh, size_t room, const char *chain) {
        struct nlattr *data = mnl_attr_nest_start_check(nlh, room, NFTA_SET_ELEM_DATA), *v;

        if (!data)
                return false;
        v = mnl_attr_nest_start_check(nlh, room, NFTA_DATA_VERDICT);
        if (!v || !mnl_attr_put_u32_check(nlh, room, NFTA_VERDICT_CODE, htonl((uint32_t) NFT_JUMP)) ||
            !mnl_attr_put_strz_check(nlh, room, NFTA_VERDICT_CHAIN, chain))
                return false;
        mnl_attr_nest_end(nlh, v);
        mnl_attr_nest_end(nlh, data);
        return true;
}

uint32_t nft_put_setelem(NftWriter *w, bool add, uint8_t family, const char *table,
                         const char *set, const NftElem *e) {
        struct nlmsghdr *nlh = nft_put_header(
                w, nft_type(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
                (uint16_t) (NLM_F_ACK | (add ? NLM_F_CREATE : 0)), family, 0);
        size_t room = nft_room(w);
        struct nlattr *list, *elem;
        bool ok;

        if (!nlh)
                return w->seq;
        ok = mnl_attr_put_strz_check(nlh, room, NFTA_SET_ELEM_LIST_TABLE, table) &&
             mnl_attr_put_strz_check(nlh, room, NFTA_SET_ELEM_LIST_SET, set) &&
             (list = mnl_attr_nest_start_check(nlh, room, NFTA_SET_ELEM_LIST_ELEMENTS)) &&
             (elem = mnl_attr_nest_start_check(nlh, room, NFTA_LIST_ELEM)) &&
             nft_put_data(nlh, room, NFTA_SET_ELEM_KEY, e->key, e->key_len) &&
             (e->key_end_len == 0 ||
              nft_put_data(nlh, room, NFTA_SET_ELEM_KEY_END, e->key_end, e->key_end_len)) &&
             (!add || e->data_len == 0 ||
              nft_put_data(nlh, room, NFTA_SET_ELEM_DATA, e->data, e->data_len)) &&
             (!add || e->jump[0] == '\0' || nft_put_verdict_jump(nlh, room, e->jump));
        if (ok) {
                mnl_attr_nest_end(nlh, elem);
                mnl_attr_nest_end(nlh, list);
        }
        return nft_put_end(w, nlh, ok);
}

uint32_t nft_put_chain(NftWriter *w, bool add, uint8_t family, const char *table,
                       const char *chain) {
        struct nlmsghdr *nlh = nft_put_header(
                w, nft_type(add ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN),
                (uint16_t) (NLM_F_ACK | (add ? NLM_F_CREATE : 0)), family, 0);
        size_t room = nft_room(w);

        if (!nlh)
                return w->seq;
        return nft_put_end(w, nlh, mnl_attr_put_strz_check(nlh, room, NFTA_CHAIN_TABLE, table) &&
                                   mnl_attr_put_strz_check(nlh, room, NFTA_CHAIN_NAME, chain));
}

uint32_t nft_put_chain_flush(NftWriter *w, uint8_t family, const char *table, const char *chain) {
        struct nlmsghdr *nlh = nft_put_header(w, nft_type(NFT_MSG_DELRULE), NLM_F_ACK, family, 0);
        size_t room = nft_room(w);

        if (!nlh)
                return w->seq;
        return nft_put_end(w, nlh, mnl_attr_put_strz_check(nlh, room, NFTA_RULE_TABLE, table) &&
                                   mnl_attr_put_strz_check(nlh, room, NFTA_RULE_CHAIN, chain));
}

/* One expression of a rule: its name, then its attributes in a nest the caller fills. */
static struct nlattr *nft_put_expr_start(struct nlmsghdr *nlh, size_t room, const char *name,
                                         struct nlattr **ret_data) {
        struct nlattr *elem = mnl_attr_nest_start_check(nlh, room, NFTA_LIST_ELEM);

        if (!elem || !mnl_attr_put_strz_check(nlh, room, NFTA_EXPR_NAME, name))
                return NULL;
        *ret_data = mnl_attr_nest_start_check(nlh, room, NFTA_EXPR_DATA);
        return *ret_data ? elem : NULL;
}

static void nft_put_expr_end(struct nlmsghdr *nlh, struct nlattr *elem, struct nlattr *data) {
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, elem);
}

static bool nft_put_u32_be(struct nlmsghdr *nlh, size_t room, uint16_t type, uint32_t v) {
        return mnl_attr_put_u32_check(nlh, room, type, htonl(v));
}

uint32_t nft_put_rule_ct_mark(NftWriter *w, uint8_t family, const char *table, const char *chain,
                              uint32_t mask, uint32_t value) {
        struct nlmsghdr *nlh = nft_put_header(w, nft_type(NFT_MSG_NEWRULE),
                                              NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, family, 0);
        size_t room = nft_room(w);
        struct nlattr *exprs, *e, *d;
        bool ok;

        if (!nlh)
                return w->seq;
        ok = mnl_attr_put_strz_check(nlh, room, NFTA_RULE_TABLE, table) &&
             mnl_attr_put_strz_check(nlh, room, NFTA_RULE_CHAIN, chain) &&
             (exprs = mnl_attr_nest_start_check(nlh, room, NFTA_RULE_EXPRESSIONS));
        /* [ ct load mark => reg 1 ] */
        ok = ok && (e = nft_put_expr_start(nlh, room, "ct", &d)) &&
             nft_put_u32_be(nlh, room, NFTA_CT_KEY, NFT_CT_MARK) &&
             nft_put_u32_be(nlh, room, NFTA_CT_DREG, NFT_REG_1);
        if (ok)
                nft_put_expr_end(nlh, e, d);
        /* [ bitwise reg 1 = ( reg 1 & mask ) ^ value ] */
        ok = ok && (e = nft_put_expr_start(nlh, room, "bitwise", &d)) &&
             nft_put_u32_be(nlh, room, NFTA_BITWISE_SREG, NFT_REG_1) &&
             nft_put_u32_be(nlh, room, NFTA_BITWISE_DREG, NFT_REG_1) &&
             nft_put_u32_be(nlh, room, NFTA_BITWISE_LEN, sizeof mask) &&
             nft_put_data(nlh, room, NFTA_BITWISE_MASK, &mask, sizeof mask) &&
             nft_put_data(nlh, room, NFTA_BITWISE_XOR, &value, sizeof value);
        if (ok)
                nft_put_expr_end(nlh, e, d);
        /* [ ct set mark with reg 1 ] */
        ok = ok && (e = nft_put_expr_start(nlh, room, "ct", &d)) &&
             nft_put_u32_be(nlh, room, NFTA_CT_KEY, NFT_CT_MARK) &&
             nft_put_u32_be(nlh, room, NFTA_CT_SREG, NFT_REG_1);
        if (ok) {
                nft_put_expr_end(nlh, e, d);
                mnl_attr_nest_end(nlh, exprs);
        }
        return nft_put_end(w, nlh, ok);
}

uint32_t nft_put_getsetelem(NftWriter *w, uint8_t family, const char *table, const char *set) {
        struct nlmsghdr *nlh = nft_put_header(w, nft_type(NFT_MSG_GETSETELEM), NLM_F_DUMP,
                                              family, 0);
        size_t room = nft_room(w);

        if (!nlh)
                return w->seq;
        return nft_put_end(w, nlh,
                           mnl_attr_put_strz_check(nlh, room, NFTA_SET_ELEM_LIST_TABLE, table) &&
                           mnl_attr_put_strz_check(nlh, room, NFTA_SET_ELEM_LIST_SET, set));
}

/* ---- reading a dump ---------------------------------------------------------------------- */

/* A run of attributes: a cursor and what is left, every read checked against it. */
typedef struct NftAttrs {
        const uint8_t *p;
        size_t left;
} NftAttrs;

/* The next attribute, or false at the end; -EBADMSG in *r for a malformed one. */
static bool nft_attr_next(NftAttrs *a, uint16_t *ret_type, NftAttrs *ret_payload, int *r) {
        struct nlattr h;
        size_t step;

        if (a->left == 0)
                return false;
        if (a->left < sizeof h) {
                *r = -EBADMSG;
                return false;
        }
        memcpy(&h, a->p, sizeof h);
        if (h.nla_len < sizeof h || h.nla_len > a->left) {
                *r = -EBADMSG;
                return false;
        }
        *ret_type = (uint16_t) (h.nla_type & (uint16_t) NLA_TYPE_MASK);
        *ret_payload = (NftAttrs) { a->p + sizeof h, h.nla_len - sizeof h };
        /* The last attribute may end without its padding. */
        step = ((size_t) h.nla_len + 3) & ~(size_t) 3;
        if (step >= a->left)
                *a = (NftAttrs) { a->p + a->left, 0 };
        else
                *a = (NftAttrs) { a->p + step, a->left - step };
        return true;
}

static int nft_read_be64(const NftAttrs *a, uint64_t *ret) {
        uint64_t be;

        if (a->left != sizeof be)
                return -EBADMSG;
        memcpy(&be, a->p, sizeof be);
        *ret = be64toh(be);
        return 0;
}

/* The value in an nft_data nest. */
static int nft_read_data_value(NftAttrs a, NftAttrs *ret) {
        NftAttrs payload;
        uint16_t type;
        int r = 0;

        while (nft_attr_next(&a, &type, &payload, &r))
                if (type == NFTA_DATA_VALUE) {
                        *ret = payload;
                        return 0;
                }
        return r < 0 ? r : -EBADMSG;
}

/* One expression (NFTA_EXPR_NAME, NFTA_EXPR_DATA): a counter's numbers into e. */
static int nft_read_expr(NftAttrs a, NftElemSeen *e) {
        NftAttrs payload, data = {};
        bool counter = false, has_data = false, has_packets = false, has_bytes = false;
        uint16_t type;
        int r = 0;

        while (nft_attr_next(&a, &type, &payload, &r)) {
                if (type == NFTA_EXPR_NAME)
                        counter = payload.left >= 8 && memcmp(payload.p, "counter", 8) == 0;
                else if (type == NFTA_EXPR_DATA) {
                        data = payload;
                        has_data = true;
                }
        }
        if (r < 0)
                return r;
        if (!counter)
                return 0; /* another kind of expression: not ours to read */
        if (!has_data)
                return -EBADMSG;
        while (nft_attr_next(&data, &type, &payload, &r)) {
                if (type == NFTA_COUNTER_PACKETS) {
                        r = nft_read_be64(&payload, &e->packets);
                        has_packets = true;
                } else if (type == NFTA_COUNTER_BYTES) {
                        r = nft_read_be64(&payload, &e->bytes);
                        has_bytes = true;
                }
                if (r < 0)
                        return r;
        }
        if (r < 0 || !has_packets || !has_bytes)
                return -EBADMSG;
        e->has_counter = true;
        return 0;
}

static int nft_read_elem(NftAttrs a, NftElemSeen *e) {
        NftAttrs payload, key;
        bool has_key = false;
        uint16_t type;
        int r = 0;

        while (nft_attr_next(&a, &type, &payload, &r)) {
                switch (type) {
                case NFTA_SET_ELEM_KEY:
                        r = nft_read_data_value(payload, &key);
                        has_key = r >= 0;
                        break;
                case NFTA_SET_ELEM_EXPR:
                        r = nft_read_expr(payload, e);
                        break;
                case NFTA_SET_ELEM_EXPRESSIONS: {
                        NftAttrs one;
                        uint16_t t;

                        while (r >= 0 && nft_attr_next(&payload, &t, &one, &r))
                                if (t == NFTA_LIST_ELEM)
                                        r = nft_read_expr(one, e);
                        break;
                }
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        if (r < 0 || !has_key || key.left == 0)
                return -EBADMSG;
        e->key = key.p;
        e->key_len = key.left;
        return 0;
}

int nft_setelem_msg_parse(const void *msg, size_t len, nft_elem_fn fn, void *userdata) {
        struct nlmsghdr nlh;
        NftAttrs a, payload;
        uint16_t type;
        int r = 0;

        if (len < sizeof nlh)
                return -EBADMSG;
        memcpy(&nlh, msg, sizeof nlh);
        if (nlh.nlmsg_len > len || nlh.nlmsg_len < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)) ||
            nlh.nlmsg_type != nft_type(NFT_MSG_NEWSETELEM))
                return -EBADMSG;
        a = (NftAttrs) { (const uint8_t *) msg + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)),
                         nlh.nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(struct nfgenmsg)) };
        while (nft_attr_next(&a, &type, &payload, &r)) {
                NftAttrs one;
                uint16_t t;

                if (type != NFTA_SET_ELEM_LIST_ELEMENTS)
                        continue;
                while (nft_attr_next(&payload, &t, &one, &r)) {
                        NftElemSeen e = {};

                        if (t != NFTA_LIST_ELEM)
                                continue;
                        r = nft_read_elem(one, &e);
                        if (r < 0)
                                return r;
                        r = fn(&e, userdata);
                        if (r < 0)
                                return r;
                }
                if (r < 0)
                        return r;
        }
        return r;
}
