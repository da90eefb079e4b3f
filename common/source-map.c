/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source-map.h"

int source_map_set(SourceMap *m, uint32_t first, uint32_t last, TrafficSource s) {
        /* At most two more than before: the new range, and a cut one's second half. */
        UidRange out[SOURCE_MAP_MAX + 2];
        size_t n = 0;
        bool placed = false;

        /* (uid_t) -1 means "no uid" to the kernel. */
        if (first > last || last == UINT32_MAX || !traffic_source_is_local(s))
                return -EINVAL;
        /* Ranges stay sorted: copy the old ones, cut around the new one, which goes where
         * its first uid belongs. SYSTEM is the default and needs no range of its own. */
        for (size_t i = 0; i <= m->n; i++) {
                const UidRange *r = i < m->n ? &m->ranges[i] : NULL;

                if (!placed && s != TRAFFIC_SOURCE_SYSTEM && (!r || r->first >= first)) {
                        /* The part of the previous range below first was kept already. */
                        out[n++] = (UidRange) { first, last, s };
                        placed = true;
                }
                if (!r)
                        break;
                if (r->last < first || r->first > last) {
                        out[n++] = *r;
                        continue;
                }
                if (r->first < first)
                        out[n++] = (UidRange) { r->first, first - 1, r->source };
                if (r->last > last) {
                        if (!placed && s != TRAFFIC_SOURCE_SYSTEM) {
                                out[n++] = (UidRange) { first, last, s };
                                placed = true;
                        }
                        out[n++] = (UidRange) { last + 1, r->last, r->source };
                }
        }

        /* Neighbours of the same source become one range. */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && out[k - 1].source == out[i].source && out[k - 1].last + 1 == out[i].first)
                        out[k - 1].last = out[i].last;
                else
                        out[k++] = out[i];
        }
        if (k > SOURCE_MAP_MAX)
                return -E2BIG;
        memcpy(m->ranges, out, k * sizeof *out);
        m->n = k;
        return 0;
}

static int parse_uid(const char *s, const char *end, uint32_t *ret) {
        unsigned long long v = 0;

        if (s == end || end - s > 10)
                return -EINVAL;
        for (const char *p = s; p < end; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (*p - '0');
        }
        /* (uid_t) -1 means "no uid" to the kernel. */
        if (v >= UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int source_map_parse_entry(const char *text, uint32_t *first, uint32_t *last,
                           TrafficSource *source) {
        const char *eq = strchr(text, '='), *dash;
        uint32_t a, b;
        TrafficSource s;
        int r;

        if (!eq)
                return -EINVAL;
        dash = memchr(text, '-', (size_t) (eq - text));
        r = parse_uid(text, dash ?: eq, &a);
        if (r < 0)
                return r;
        if (dash) {
                r = parse_uid(dash + 1, eq, &b);
                if (r < 0)
                        return r;
        } else
                b = a;
        if (a > b)
                return -EINVAL;
        s = traffic_source_from_string(eq + 1);
        if (!traffic_source_is_local(s))
                return -EINVAL;
        *first = a;
        *last = b;
        *source = s;
        return 0;
}

int source_map_validate(const UidRange *ranges, size_t n) {
        if (n > SOURCE_MAP_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                if (ranges[i].first > ranges[i].last || ranges[i].last >= UINT32_MAX)
                        return -EINVAL;
                if (!traffic_source_is_local(ranges[i].source) ||
                    ranges[i].source == TRAFFIC_SOURCE_SYSTEM)
                        return -EINVAL;
                if (i > 0 && ranges[i].first <= ranges[i - 1].last)
                        return -EINVAL;
        }
        return 0;
}

TrafficSource source_map_lookup(const SourceMap *m, uint32_t uid) {
        for (size_t i = 0; i < m->n; i++)
                if (uid >= m->ranges[i].first && uid <= m->ranges[i].last)
                        return m->ranges[i].source;
        return TRAFFIC_SOURCE_SYSTEM;
}
