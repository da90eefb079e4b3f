/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "pool.h"

struct Pool {
        PoolConfig config;
        uint32_t n_allocated;
        uint64_t bitmap[];
};

static const char *const pool_kind_names[_POOL_KIND_MAX] = {
        [POOL_ARC] = "arc",
        [POOL_ARC_NET] = "arc-net",
        [POOL_TERMINA] = "termina",
        [POOL_NETNS] = "netns",
        [POOL_LXD] = "lxd",
        [POOL_PLUGINVM] = "pluginvm",
};

const char *pool_kind_to_string(PoolKind k) {
        if (k < 0 || k >= _POOL_KIND_MAX)
                return NULL;
        return pool_kind_names[k];
}

static uint64_t subnet_span(uint8_t prefix_len) {
        return UINT64_C(1) << (32 - prefix_len);
}

int pool_config_validate(const PoolConfig *c) {
        if (c->prefix_len < 8 || c->prefix_len > 30)
                return -EINVAL;
        if (c->count == 0 || c->count > POOL_COUNT_MAX)
                return -ERANGE;
        if (c->base & ~ipv4_netmask(c->prefix_len))
                return -EINVAL;
        /* The pool must not wrap past 255.255.255.255. */
        if ((uint64_t) c->base + (uint64_t) c->count * subnet_span(c->prefix_len) > UINT64_C(1) << 32)
                return -ERANGE;
        return 0;
}

int pool_config_parse(const char *s, PoolConfig *ret) {
        char addr[IPV4_STRLEN];
        const char *slash, *x;
        char *end;
        unsigned long len, count = 1;
        PoolConfig c;
        int r;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash || (size_t) (slash - s) >= sizeof addr)
                return -EINVAL;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = '\0';
        r = ipv4_parse(addr, &c.base);
        if (r < 0)
                return r;

        if (slash[1] < '0' || slash[1] > '9')
                return -EINVAL;
        errno = 0;
        len = strtoul(slash + 1, &end, 10);
        if (errno != 0 || len > 32)
                return -EINVAL;
        x = end;
        if (*x == 'x') {
                if (x[1] < '0' || x[1] > '9')
                        return -EINVAL;
                errno = 0;
                count = strtoul(x + 1, &end, 10);
                if (errno != 0 || count > POOL_COUNT_MAX)
                        return -ERANGE;
        }
        if (*end != '\0')
                return -EINVAL;

        c.prefix_len = (uint8_t) len;
        c.count = (uint32_t) count;
        r = pool_config_validate(&c);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

const char *pool_config_to_string(const PoolConfig *c, char *buf, size_t size) {
        char a[IPV4_STRLEN];

        snprintf(buf, size, "%s/%ux%u", ipv4_to_string(c->base, a), c->prefix_len, c->count);
        return buf;
}

uint32_t pool_config_first(const PoolConfig *c) {
        return c->base;
}

uint32_t pool_config_last(const PoolConfig *c) {
        return (uint32_t) ((uint64_t) c->base + (uint64_t) c->count * subnet_span(c->prefix_len) - 1);
}

bool pool_config_has_subnet(const PoolConfig *c, const Subnet *s) {
        if (s->prefix_len != c->prefix_len)
                return false;
        if (s->base < pool_config_first(c) || s->base > pool_config_last(c))
                return false;
        return ((s->base - c->base) & (uint32_t) (subnet_span(c->prefix_len) - 1)) == 0;
}

int pool_layout_init(PoolLayout *ret, uint32_t base) {
        if (base & ~ipv4_netmask(23))
                return -EINVAL;
        *ret = (PoolLayout) {
                .pools = {
                        [POOL_ARC] = { base + 0, 30, 1 },
                        [POOL_ARC_NET] = { base + 4, 30, 5 },
                        [POOL_TERMINA] = { base + 24, 30, 26 },
                        [POOL_NETNS] = { base + 128, 30, 16 },
                        [POOL_LXD] = { base + 192, 28, 4 },
                        [POOL_PLUGINVM] = { base + 256, 29, 32 },
                },
        };
        return 0;
}

int pool_layout_validate(const PoolLayout *l) {
        for (int i = 0; i < _POOL_KIND_MAX; i++) {
                int r = pool_config_validate(&l->pools[i]);
                if (r < 0)
                        return r;
        }
        for (int i = 0; i < _POOL_KIND_MAX; i++)
                for (int j = i + 1; j < _POOL_KIND_MAX; j++)
                        if (pool_config_first(&l->pools[i]) <= pool_config_last(&l->pools[j]) &&
                            pool_config_first(&l->pools[j]) <= pool_config_last(&l->pools[i]))
                                return -EADDRINUSE;
        return 0;
}

Pool *pool_new(const PoolConfig *c) {
        Pool *p;
        size_t words;

        if (pool_config_validate(c) < 0)
                return NULL;
        words = (c->count + 63) / 64;
        p = calloc(1, sizeof *p + words * sizeof(uint64_t));
        if (!p)
                return NULL;
        p->config = *c;
        return p;
}

Pool *pool_free(Pool *p) {
        free(p);
        return NULL;
}

const PoolConfig *pool_get_config(const Pool *p) {
        return &p->config;
}

uint32_t pool_n_allocated(const Pool *p) {
        return p->n_allocated;
}

static bool bit_get(const Pool *p, uint32_t i) {
        return p->bitmap[i / 64] & (UINT64_C(1) << (i % 64));
}

static void bit_set(Pool *p, uint32_t i, bool v) {
        if (v)
                p->bitmap[i / 64] |= UINT64_C(1) << (i % 64);
        else
                p->bitmap[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

static Subnet pool_subnet_at(const Pool *p, uint32_t i) {
        return (Subnet) {
                .base = (uint32_t) (p->config.base + (uint64_t) i * subnet_span(p->config.prefix_len)),
                .prefix_len = p->config.prefix_len,
        };
}

int pool_allocate(Pool *p, uint32_t index, Subnet *ret) {
        uint32_t i;

        if (index > 0) {
                if (index > p->config.count)
                        return -ERANGE;
                i = index - 1;
                if (bit_get(p, i))
                        return -EEXIST;
        } else {
                uint32_t words = (p->config.count + 63) / 64;
                uint32_t w;

                for (w = 0; w < words; w++)
                        if (p->bitmap[w] != UINT64_MAX)
                                break;
                if (w == words)
                        return -ENOSPC;
                i = w * 64 + (uint32_t) __builtin_ctzll(~p->bitmap[w]);
                if (i >= p->config.count)
                        return -ENOSPC;
        }
        bit_set(p, i, true);
        p->n_allocated++;
        *ret = pool_subnet_at(p, i);
        return 0;
}

uint32_t pool_index_of(const Pool *p, const Subnet *s) {
        if (!pool_config_has_subnet(&p->config, s))
                return 0;
        return (uint32_t) ((s->base - p->config.base) >> (32 - p->config.prefix_len)) + 1;
}

int pool_release(Pool *p, const Subnet *s) {
        uint32_t index = pool_index_of(p, s);

        if (index == 0 || !bit_get(p, index - 1))
                return -ENOENT;
        bit_set(p, index - 1, false);
        p->n_allocated--;
        return 0;
}

uint32_t subnet_addr(const Subnet *s, uint32_t offset) {
        return s->base + 1 + offset;
}

uint32_t subnet_broadcast(const Subnet *s) {
        return s->base | ~ipv4_netmask(s->prefix_len);
}

uint32_t subnet_size(const Subnet *s) {
        return (uint32_t) subnet_span(s->prefix_len);
}
