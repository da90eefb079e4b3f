/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * IPv4 subnet pools. A pool is `count` equal subnets of `prefix_len` laid end to end from
 * `base`; subnet i (1-based) starts at base + (i-1) * 2^(32-prefix_len). In a subnet, host
 * offset k is base+1+k: offset 0 is the host side, offset 1 the guest side.
 *
 * The default layout splits 100.115.92.0/23 as the original did; the /23 can be moved
 * (pool_layout_init()) and the ConnectNamespace pool replaced, e.g. by a bigger one for
 * benchmarks. The helper validates addresses against the same layout, given on its command
 * line.
 */

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define POOL_DEFAULT_BASE 0x64735c00u /* 100.115.92.0 */
#define POOL_COUNT_MAX 65536u

typedef enum PoolKind {
        POOL_ARC,          /* arcbr0/arc0 management link */
        POOL_ARC_NET,      /* one per uplink bridged into ARC */
        POOL_TERMINA,      /* Termina VM TAPs */
        POOL_NETNS,        /* ConnectNamespace */
        POOL_LXD,          /* LXD containers inside Termina */
        POOL_PLUGINVM,     /* PluginVM TAPs */
        _POOL_KIND_MAX,
        _POOL_KIND_INVALID = -22,
} PoolKind;

typedef struct Subnet {
        uint32_t base;      /* host byte order */
        uint8_t prefix_len;
} Subnet;

typedef struct PoolConfig {
        uint32_t base;
        uint8_t prefix_len;
        uint32_t count;
} PoolConfig;

typedef struct PoolLayout {
        PoolConfig pools[_POOL_KIND_MAX];
} PoolLayout;

typedef struct Pool Pool;

const char *pool_kind_to_string(PoolKind k);

/* "A.B.C.D/LEN" (one subnet) or "A.B.C.D/LENxCOUNT"; the base must be aligned. */
int pool_config_parse(const char *s, PoolConfig *ret);
/* Inverse of pool_config_parse(), into buf of at least 32 bytes. */
const char *pool_config_to_string(const PoolConfig *c, char *buf, size_t size);
int pool_config_validate(const PoolConfig *c);
/* The first and last address covered by the pool. */
uint32_t pool_config_first(const PoolConfig *c);
uint32_t pool_config_last(const PoolConfig *c);
/* Whether s is exactly one of the pool's subnets (aligned, right length, in range). */
bool pool_config_has_subnet(const PoolConfig *c, const Subnet *s);

/* The original's layout, with the /23 at base (which must be /23 aligned). */
int pool_layout_init(PoolLayout *ret, uint32_t base);
/* Every pool valid and no two pools overlapping. */
int pool_layout_validate(const PoolLayout *l);

Pool *pool_new(const PoolConfig *c);
Pool *pool_free(Pool *p);
const PoolConfig *pool_get_config(const Pool *p);
uint32_t pool_n_allocated(const Pool *p);
/* index 0: the lowest free subnet; index >= 1: exactly that subnet (-EEXIST if taken,
 * -ERANGE if beyond the pool). -ENOSPC when none is free. */
int pool_allocate(Pool *p, uint32_t index, Subnet *ret);
/* -ENOENT if s was not allocated from p. */
int pool_release(Pool *p, const Subnet *s);
/* 1-based index of s in p, or 0 if s is not one of p's subnets. */
uint32_t pool_index_of(const Pool *p, const Subnet *s);

/* Host offset k of a subnet: base + 1 + k. */
uint32_t subnet_addr(const Subnet *s, uint32_t offset);
uint32_t subnet_broadcast(const Subnet *s);
uint32_t subnet_size(const Subnet *s);
