/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The 32-bit fwmark layout shared by every packet the daemon tags:
 *
 *   bit  0      SNAT: masquerade on the way out
 *   bits 8-13   traffic source (TrafficSource below; forwarded sources have bit 13 set)
 *   bits 14-15  VPN intent: 0x8000 route on VPN, 0x4000 bypass VPN
 *   bits 16-31  routing tag = routing table 1000 + ifindex of the uplink
 *
 * Values are computed with shifts and masks; a C bitfield would not be portable.
 */

#include <stdbool.h>
#include <stdint.h>

#define FWMARK_SNAT            UINT32_C(0x00000001)
#define FWMARK_SOURCE_MASK     UINT32_C(0x00003f00)
#define FWMARK_FORWARDED_MASK  UINT32_C(0x00002000)
#define FWMARK_VPN_MASK        UINT32_C(0x0000c000)
#define FWMARK_ROUTE_ON_VPN    UINT32_C(0x00008000)
#define FWMARK_BYPASS_VPN      UINT32_C(0x00004000)
#define FWMARK_POLICY_MASK     UINT32_C(0x0000ff00)
#define FWMARK_ROUTING_MASK    UINT32_C(0xffff0000)
#define FWMARK_SOURCE_SHIFT    8
#define FWMARK_ROUTING_SHIFT   16
#define ROUTING_TABLE_OFFSET   1000

/* The daemon's own source values (6 bits). Local sources are < 0x20. */
typedef enum TrafficSource {
        TRAFFIC_SOURCE_UNKNOWN = 0,
        TRAFFIC_SOURCE_CHROME = 1,
        TRAFFIC_SOURCE_USER = 2,
        TRAFFIC_SOURCE_UPDATE_ENGINE = 3,
        TRAFFIC_SOURCE_SYSTEM = 4,
        TRAFFIC_SOURCE_HOST_VPN = 5,
        TRAFFIC_SOURCE_ARC = 0x20,
        TRAFFIC_SOURCE_CROSVM = 0x21,
        TRAFFIC_SOURCE_PLUGINVM = 0x22,
        TRAFFIC_SOURCE_TETHER_DOWNSTREAM = 0x23,
        TRAFFIC_SOURCE_ARC_VPN = 0x24,
        _TRAFFIC_SOURCE_MAX = 0x40,
        _TRAFFIC_SOURCE_INVALID = -22,
} TrafficSource;

/* TrafficCounter.Source of the 2021 D-Bus API. */
typedef enum ProtoSource {
        PROTO_SOURCE_UNKNOWN = 0,
        PROTO_SOURCE_CHROME = 1,
        PROTO_SOURCE_USER = 2,
        PROTO_SOURCE_ARC = 3,
        PROTO_SOURCE_CROSVM = 4,
        PROTO_SOURCE_PLUGINVM = 5,
        PROTO_SOURCE_UPDATE_ENGINE = 6,
        PROTO_SOURCE_VPN = 7,
        PROTO_SOURCE_SYSTEM = 8,
        _PROTO_SOURCE_MAX,
        _PROTO_SOURCE_INVALID = -22,
} ProtoSource;

typedef enum VpnPolicy {
        VPN_POLICY_DEFAULT = 0,
        VPN_POLICY_ROUTE_ON_VPN = 1,
        VPN_POLICY_BYPASS_VPN = 2,
        _VPN_POLICY_MAX,
        _VPN_POLICY_INVALID = -22,
} VpnPolicy;

bool traffic_source_is_valid(int s);
const char *traffic_source_to_string(TrafficSource s);
TrafficSource traffic_source_from_string(const char *name);
/* Sources of the host's own sockets, as opposed to forwarded guests' (bit 13 set). */
static inline bool traffic_source_is_local(TrafficSource s) {
        return s > TRAFFIC_SOURCE_UNKNOWN && s < TRAFFIC_SOURCE_ARC && traffic_source_is_valid((int) s);
}
/* D-Bus source -> internal; _TRAFFIC_SOURCE_INVALID for values outside the 2021 enum.
 * UNKNOWN maps to UNKNOWN: callers decide what it defaults to. */
TrafficSource traffic_source_from_proto(int proto_source);
ProtoSource traffic_source_to_proto(TrafficSource s);

/* The source bits of a mark. */
uint32_t fwmark_from_source(TrafficSource s);
TrafficSource fwmark_get_source(uint32_t mark);

/* Routing table and routing tag of an uplink; -ERANGE if the table id would not fit
 * in 16 bits. */
int fwmark_routing_table(int ifindex, uint32_t *ret);
int fwmark_routing_tag(int ifindex, uint32_t *ret);

uint32_t fwmark_from_vpn_policy(VpnPolicy p);
/* Replace the bits of old selected by mask with those of value. */
uint32_t fwmark_apply(uint32_t old, uint32_t value, uint32_t mask);
