/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Which traffic source the host's own sockets count as, by the uid that owns them: a set
 * of disjoint uid ranges, each with a local source; uids in none of them are SYSTEM. The
 * manager builds it from its defaults and --uid-source options (later ones painting over
 * earlier ones) and hands it to the helper, which checks it and turns it into an interval
 * map of nftables.
 */

#include <stddef.h>
#include <stdint.h>

#include "fwmark.h"

#define SOURCE_MAP_MAX 64u

typedef struct UidRange {
        uint32_t first, last; /* inclusive */
        TrafficSource source;
} UidRange;

typedef struct SourceMap {
        UidRange ranges[SOURCE_MAP_MAX];
        size_t n;
} SourceMap;

/*
 * source_map_set() - give uids first..last the source s, over whatever they had.
 * Return: 0; -EINVAL if first > last or s is not a local source; -E2BIG if the map would
 * need more than SOURCE_MAP_MAX ranges.
 */
int source_map_set(SourceMap *m, uint32_t first, uint32_t last, TrafficSource s);

/* "UID[-UID]=SOURCE" (SOURCE a name of traffic_source_to_string(), local only). */
int source_map_parse_entry(const char *text, uint32_t *first, uint32_t *last,
                           TrafficSource *source);

/* Sorted by first, disjoint, local sources other than SYSTEM (the default needs no range). */
int source_map_validate(const UidRange *ranges, size_t n);

/* The source of one uid. */
TrafficSource source_map_lookup(const SourceMap *m, uint32_t uid);
