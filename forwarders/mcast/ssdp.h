/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * SSDP datagrams (UPnP Device Architecture 1.1 §1; HTTP/1.1 message syntax of RFC 7230 §3
 * over UDP): the check mcastd runs before it forwards one. Accepted are
 *
 *   M-SEARCH * HTTP/1.1      with MAN: "ssdp:discover" and ST
 *   NOTIFY * HTTP/1.1        with NT, NTS (ssdp:alive, ssdp:byebye, ssdp:update) and USN
 *   HTTP/1.1 200 OK          with ST and USN (the unicast answer to an M-SEARCH)
 *
 * each line ending in CRLF, at most SSDP_HEADERS_MAX header lines of "name: value" with a
 * token for a name, the empty line, and nothing after it; no NUL or other control bytes
 * than HTAB; at most SSDP_MESSAGE_MAX bytes. Header names compare case-insensitively; the
 * headers above and MX appear at most once (two differing ST lines would be read one way by
 * one device and the other way by the next). Values are otherwise not interpreted.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "mcast-drop.h"

#define SSDP_MESSAGE_MAX 4096u
#define SSDP_HEADERS_MAX 32u
#define SSDP_MX_MAX 5u /* UDA 1.1 §1.3.2: devices take a larger MX as 5 */

typedef enum SsdpKind {
        SSDP_MSEARCH,
        SSDP_NOTIFY,
        SSDP_RESPONSE,
        _SSDP_KIND_MAX,
        _SSDP_KIND_INVALID = -EINVAL,
} SsdpKind;

typedef struct SsdpInfo {
        SsdpKind kind;
        unsigned n_headers;
        /* M-SEARCH: the MX header's seconds, capped at SSDP_MX_MAX (0 when absent, as in a
         * unicast search): how long answers may keep coming back to the asker. */
        unsigned mx;
} SsdpInfo;

/*
 * ssdp_kind_to_string() - the name of an SSDP message kind.
 * @k: the kind
 *
 * Return: "m-search", "notify" or "response"; NULL out of range.
 */
const char *ssdp_kind_to_string(SsdpKind k);

/*
 * ssdp_validate() - is this UDP payload an SSDP message fit to forward?
 * @msg: the payload
 * @len: its length
 * @ret_info: what it is; set on 0 only; may be NULL
 * @reterr_drop: why it is refused, on -EBADMSG
 *
 * Return: 0, or -EBADMSG.
 */
int ssdp_validate(const uint8_t *msg, size_t len, SsdpInfo *ret_info, McastDrop *reterr_drop);
