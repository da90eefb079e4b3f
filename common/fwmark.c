/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include "fwmark.h"
#include "macro.h"

static const struct {
        TrafficSource source;
        ProtoSource proto;
        const char *name;
} sources[] = {
        { TRAFFIC_SOURCE_UNKNOWN, PROTO_SOURCE_UNKNOWN, "unknown" },
        { TRAFFIC_SOURCE_CHROME, PROTO_SOURCE_CHROME, "chrome" },
        { TRAFFIC_SOURCE_USER, PROTO_SOURCE_USER, "user" },
        { TRAFFIC_SOURCE_UPDATE_ENGINE, PROTO_SOURCE_UPDATE_ENGINE, "update-engine" },
        { TRAFFIC_SOURCE_SYSTEM, PROTO_SOURCE_SYSTEM, "system" },
        { TRAFFIC_SOURCE_HOST_VPN, PROTO_SOURCE_VPN, "host-vpn" },
        { TRAFFIC_SOURCE_ARC, PROTO_SOURCE_ARC, "arc" },
        { TRAFFIC_SOURCE_CROSVM, PROTO_SOURCE_CROSVM, "crosvm" },
        { TRAFFIC_SOURCE_PLUGINVM, PROTO_SOURCE_PLUGINVM, "pluginvm" },
        { TRAFFIC_SOURCE_TETHER_DOWNSTREAM, PROTO_SOURCE_SYSTEM, "tether-downstream" },
        { TRAFFIC_SOURCE_ARC_VPN, PROTO_SOURCE_VPN, "arc-vpn" },
};

bool traffic_source_is_valid(int s) {
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if ((int) sources[i].source == s)
                        return true;
        return false;
}

const char *traffic_source_to_string(TrafficSource s) {
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if (sources[i].source == s)
                        return sources[i].name;
        return NULL;
}

TrafficSource traffic_source_from_string(const char *name) {
        /* "update_engine" too: the D-Bus API's spelling, which patchpanel-cli prints. */
        for (size_t i = 0; name && i < ELEMENTSOF(sources); i++) {
                const char *a = sources[i].name, *b = name;
                while (*a && (*a == *b || (*a == '-' && *b == '_'))) {
                        a++;
                        b++;
                }
                if (*a == '\0' && *b == '\0')
                        return sources[i].source;
        }
        return _TRAFFIC_SOURCE_INVALID;
}

TrafficSource traffic_source_from_proto(int proto_source) {
        /* The first entry for each proto value is the canonical internal source. */
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if ((int) sources[i].proto == proto_source)
                        return sources[i].source;
        return _TRAFFIC_SOURCE_INVALID;
}

ProtoSource traffic_source_to_proto(TrafficSource s) {
        for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                if (sources[i].source == s)
                        return sources[i].proto;
        return _PROTO_SOURCE_INVALID;
}

uint32_t fwmark_from_source(TrafficSource s) {
        return ((uint32_t) s << FWMARK_SOURCE_SHIFT) & FWMARK_SOURCE_MASK;
}

TrafficSource fwmark_get_source(uint32_t mark) {
        return (TrafficSource) ((mark & FWMARK_SOURCE_MASK) >> FWMARK_SOURCE_SHIFT);
}

int fwmark_routing_table(int ifindex, uint32_t *ret) {
        if (ifindex <= 0 || ifindex > 0xffff - ROUTING_TABLE_OFFSET)
                return -ERANGE;
        *ret = (uint32_t) (ROUTING_TABLE_OFFSET + ifindex);
        return 0;
}

int fwmark_routing_tag(int ifindex, uint32_t *ret) {
        uint32_t table;
        int r = fwmark_routing_table(ifindex, &table);

        if (r < 0)
                return r;
        *ret = table << FWMARK_ROUTING_SHIFT;
        return 0;
}

uint32_t fwmark_from_vpn_policy(VpnPolicy p) {
        switch (p) {
        case VPN_POLICY_ROUTE_ON_VPN:
                return FWMARK_ROUTE_ON_VPN;
        case VPN_POLICY_BYPASS_VPN:
                return FWMARK_BYPASS_VPN;
        default:
                return 0;
        }
}

uint32_t fwmark_apply(uint32_t old, uint32_t value, uint32_t mask) {
        return (old & ~mask) | (value & mask);
}
