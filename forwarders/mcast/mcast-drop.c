/* SPDX-License-Identifier: BSD-3-Clause */
#include <stddef.h>

#include "mcast-drop.h"

static const char *const mcast_drop_names[_MCAST_DROP_MAX] = {
        [MCAST_DROP_PROTOCOL_OFF] = "protocol-off",
        [MCAST_DROP_WRONG_SOCKET] = "wrong-socket",
        [MCAST_DROP_SOURCE_IS_HOST] = "source-is-host",
        [MCAST_DROP_SOURCE_OUTSIDE_SUBNET] = "source-outside-subnet",
        [MCAST_DROP_SOURCE_INVALID] = "source-invalid",
        [MCAST_DROP_NO_IPV4_ADDRESS] = "no-ipv4-address",
        [MCAST_DROP_NO_ROUTE] = "no-route",
        [MCAST_DROP_MDNS_RESPONSE_PORT] = "mdns-response-port",
        [MCAST_DROP_TOO_BIG] = "too-big",
        [MCAST_DROP_SEND_FAILED] = "send-failed",
        [MCAST_DROP_NOT_A_REPLY] = "not-a-reply",
        [MCAST_DROP_DNS_SHORT_HEADER] = "dns-short-header",
        [MCAST_DROP_DNS_TOO_LONG] = "dns-too-long",
        [MCAST_DROP_DNS_OPCODE] = "dns-opcode",
        [MCAST_DROP_DNS_RCODE] = "dns-rcode",
        [MCAST_DROP_DNS_EMPTY] = "dns-empty",
        [MCAST_DROP_DNS_TOO_MANY_RECORDS] = "dns-too-many-records",
        [MCAST_DROP_DNS_TRUNCATED] = "dns-truncated",
        [MCAST_DROP_DNS_NAME_TRUNCATED] = "dns-name-truncated",
        [MCAST_DROP_DNS_LABEL_TYPE] = "dns-label-type",
        [MCAST_DROP_DNS_NAME_TOO_LONG] = "dns-name-too-long",
        [MCAST_DROP_DNS_POINTER_FORWARD] = "dns-pointer-forward",
        [MCAST_DROP_DNS_POINTER_HEADER] = "dns-pointer-header",
        [MCAST_DROP_DNS_POINTER_NOT_NAME] = "dns-pointer-not-name",
        [MCAST_DROP_DNS_POINTER_CHAIN] = "dns-pointer-chain",
        [MCAST_DROP_DNS_RDATA_TRUNCATED] = "dns-rdata-truncated",
        [MCAST_DROP_DNS_RDATA_LENGTH] = "dns-rdata-length",
        [MCAST_DROP_DNS_RDATA_MALFORMED] = "dns-rdata-malformed",
        [MCAST_DROP_DNS_TRAILING_BYTES] = "dns-trailing-bytes",
        [MCAST_DROP_SSDP_TOO_LONG] = "ssdp-too-long",
        [MCAST_DROP_SSDP_NUL] = "ssdp-nul",
        [MCAST_DROP_SSDP_CONTROL_CHAR] = "ssdp-control-char",
        [MCAST_DROP_SSDP_LINE_ENDING] = "ssdp-line-ending",
        [MCAST_DROP_SSDP_START_LINE] = "ssdp-start-line",
        [MCAST_DROP_SSDP_HEADER] = "ssdp-header",
        [MCAST_DROP_SSDP_TOO_MANY_HEADERS] = "ssdp-too-many-headers",
        [MCAST_DROP_SSDP_UNTERMINATED] = "ssdp-unterminated",
        [MCAST_DROP_SSDP_BODY] = "ssdp-body",
        [MCAST_DROP_SSDP_MISSING_HEADER] = "ssdp-missing-header",
        [MCAST_DROP_SSDP_DUPLICATE_HEADER] = "ssdp-duplicate-header",
        [MCAST_DROP_SSDP_HEADER_VALUE] = "ssdp-header-value",
        [MCAST_DROP_BCAST_TRUNCATED] = "bcast-truncated",
        [MCAST_DROP_BCAST_VERSION] = "bcast-version",
        [MCAST_DROP_BCAST_HEADER_LENGTH] = "bcast-header-length",
        [MCAST_DROP_BCAST_IP_OPTIONS] = "bcast-ip-options",
        [MCAST_DROP_BCAST_TOTAL_LENGTH] = "bcast-total-length",
        [MCAST_DROP_BCAST_IP_CHECKSUM] = "bcast-ip-checksum",
        [MCAST_DROP_BCAST_FRAGMENT] = "bcast-fragment",
        [MCAST_DROP_BCAST_NOT_UDP] = "bcast-not-udp",
        [MCAST_DROP_BCAST_UDP_LENGTH] = "bcast-udp-length",
        [MCAST_DROP_BCAST_UDP_CHECKSUM] = "bcast-udp-checksum",
        [MCAST_DROP_BCAST_PORT] = "bcast-port",
        [MCAST_DROP_BCAST_DESTINATION] = "bcast-destination",
};

const char *mcast_drop_to_string(McastDrop d) {
        if (d < 0 || d >= _MCAST_DROP_MAX)
                return NULL;
        return mcast_drop_names[d];
}
