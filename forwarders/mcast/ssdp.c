/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "macro.h"
#include "ssdp.h"

static int drop(McastDrop *reterr_drop, McastDrop reason) {
        if (reterr_drop)
                *reterr_drop = reason;
        return -EBADMSG;
}

static const char *const ssdp_kind_names[_SSDP_KIND_MAX] = {
        [SSDP_MSEARCH] = "m-search",
        [SSDP_NOTIFY] = "notify",
        [SSDP_RESPONSE] = "response",
};

const char *ssdp_kind_to_string(SsdpKind k) {
        if (k < 0 || k >= _SSDP_KIND_MAX)
                return NULL;
        return ssdp_kind_names[k];
}

/* A span of the message. */
typedef struct Span {
        const uint8_t *p;
        size_t n;
} Span;

static bool span_is(Span s, const char *lit) {
        size_t n = strlen(lit);

        return s.n == n && memcmp(s.p, lit, n) == 0;
}

static uint8_t ascii_lower(uint8_t c) {
        return c >= 'A' && c <= 'Z' ? (uint8_t) (c - 'A' + 'a') : c;
}

static bool span_is_nocase(Span s, const char *lit) {
        size_t n = strlen(lit);

        if (s.n != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (ascii_lower(s.p[i]) != (uint8_t) lit[i])
                        return false;
        return true;
}

/* RFC 7230 §3.2.6 tchar */
static bool is_tchar(uint8_t c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c != 0 && strchr("!#$%&'*+-.^_`|~", c);
}

/*
 * The line starting at *pos: up to its CRLF, which must be there. A bare CR or LF, a NUL or
 * another control byte than HTAB refuses the message.
 */
static int ssdp_next_line(const uint8_t *msg, size_t len, size_t *pos, Span *ret,
                          McastDrop *reterr_drop) {
        for (size_t i = *pos; i < len; i++) {
                uint8_t c = msg[i];

                if (c == '\r') {
                        if (i + 1 >= len)
                                return drop(reterr_drop, MCAST_DROP_SSDP_UNTERMINATED);
                        if (msg[i + 1] != '\n')
                                return drop(reterr_drop, MCAST_DROP_SSDP_LINE_ENDING);
                        *ret = (Span) { msg + *pos, i - *pos };
                        *pos = i + 2;
                        return 0;
                }
                if (c == '\n')
                        return drop(reterr_drop, MCAST_DROP_SSDP_LINE_ENDING);
                if (c == 0)
                        return drop(reterr_drop, MCAST_DROP_SSDP_NUL);
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return drop(reterr_drop, MCAST_DROP_SSDP_CONTROL_CHAR);
        }
        return drop(reterr_drop, MCAST_DROP_SSDP_UNTERMINATED);
}

static int ssdp_start_line(Span line, SsdpKind *ret, McastDrop *reterr_drop) {
        static const char response[] = "HTTP/1.1 200";

        if (span_is(line, "M-SEARCH * HTTP/1.1"))
                *ret = SSDP_MSEARCH;
        else if (span_is(line, "NOTIFY * HTTP/1.1"))
                *ret = SSDP_NOTIFY;
        else if (line.n >= sizeof response - 1 &&
                 memcmp(line.p, response, sizeof response - 1) == 0 &&
                 (line.n == sizeof response - 1 || line.p[sizeof response - 1] == ' '))
                *ret = SSDP_RESPONSE; /* status 200, any reason phrase */
        else
                return drop(reterr_drop, MCAST_DROP_SSDP_START_LINE);
        return 0;
}

/* The headers mcastd looks at; each may appear at most once. */
typedef enum SsdpHeader {
        SSDP_HEADER_MAN,
        SSDP_HEADER_ST,
        SSDP_HEADER_MX,
        SSDP_HEADER_NT,
        SSDP_HEADER_NTS,
        SSDP_HEADER_USN,
        SSDP_HEADER_HOST,
        _SSDP_HEADER_MAX,
        _SSDP_HEADER_INVALID = -EINVAL,
} SsdpHeader;

static const char *const ssdp_header_names[_SSDP_HEADER_MAX] = {
        [SSDP_HEADER_MAN] = "man",
        [SSDP_HEADER_ST] = "st",
        [SSDP_HEADER_MX] = "mx",
        [SSDP_HEADER_NT] = "nt",
        [SSDP_HEADER_NTS] = "nts",
        [SSDP_HEADER_USN] = "usn",
        [SSDP_HEADER_HOST] = "host",
};

static SsdpHeader ssdp_header_from_name(Span name) {
        for (size_t i = 0; i < ELEMENTSOF(ssdp_header_names); i++)
                if (span_is_nocase(name, ssdp_header_names[i]))
                        return (SsdpHeader) i;
        return _SSDP_HEADER_INVALID;
}

/* "name:" OWS value OWS; the name a token right up to the colon (RFC 7230 §3.2, §3.2.4). */
static int ssdp_header_line(Span line, Span *ret_name, Span *ret_value, McastDrop *reterr_drop) {
        size_t i = 0, end;

        while (i < line.n && is_tchar(line.p[i]))
                i++;
        if (i == 0 || i >= line.n || line.p[i] != ':')
                return drop(reterr_drop, MCAST_DROP_SSDP_HEADER);
        *ret_name = (Span) { line.p, i };

        i++;
        while (i < line.n && (line.p[i] == ' ' || line.p[i] == '\t'))
                i++;
        end = line.n;
        while (end > i && (line.p[end - 1] == ' ' || line.p[end - 1] == '\t'))
                end--;
        *ret_value = (Span) { line.p + i, end - i };
        return 0;
}

/* 1*DIGIT, read up to SSDP_MX_MAX. */
static int ssdp_parse_mx(Span v, unsigned *ret) {
        unsigned mx = 0;

        if (v.n == 0)
                return -EINVAL;
        for (size_t i = 0; i < v.n; i++) {
                if (v.p[i] < '0' || v.p[i] > '9')
                        return -EINVAL;
                if (mx <= SSDP_MX_MAX)
                        mx = mx * 10 + (unsigned) (v.p[i] - '0');
        }
        *ret = mx > SSDP_MX_MAX ? SSDP_MX_MAX : mx;
        return 0;
}

int ssdp_validate(const uint8_t *msg, size_t len, SsdpInfo *ret_info, McastDrop *reterr_drop) {
        Span seen[_SSDP_HEADER_MAX] = {};
        bool have[_SSDP_HEADER_MAX] = {};
        SsdpInfo info = {};
        size_t pos = 0;
        Span line;
        int r;

        if (!msg || len == 0)
                return drop(reterr_drop, MCAST_DROP_SSDP_START_LINE);
        if (len > SSDP_MESSAGE_MAX)
                return drop(reterr_drop, MCAST_DROP_SSDP_TOO_LONG);

        r = ssdp_next_line(msg, len, &pos, &line, reterr_drop);
        if (r < 0)
                return r;
        r = ssdp_start_line(line, &info.kind, reterr_drop);
        if (r < 0)
                return r;

        for (;;) {
                Span name, value;
                SsdpHeader h;

                r = ssdp_next_line(msg, len, &pos, &line, reterr_drop);
                if (r < 0)
                        return r;
                if (line.n == 0)
                        break;
                if (++info.n_headers > SSDP_HEADERS_MAX)
                        return drop(reterr_drop, MCAST_DROP_SSDP_TOO_MANY_HEADERS);
                /* A line starting with whitespace would continue the previous one
                 * (obs-fold, RFC 7230 §3.2.4): refused like any other malformed line. */
                r = ssdp_header_line(line, &name, &value, reterr_drop);
                if (r < 0)
                        return r;
                h = ssdp_header_from_name(name);
                if (h < 0)
                        continue;
                if (have[h])
                        return drop(reterr_drop, MCAST_DROP_SSDP_DUPLICATE_HEADER);
                have[h] = true;
                seen[h] = value;
        }
        if (pos != len)
                return drop(reterr_drop, MCAST_DROP_SSDP_BODY);

        switch (info.kind) {
        case SSDP_MSEARCH:
                if (!have[SSDP_HEADER_MAN] || !have[SSDP_HEADER_ST])
                        return drop(reterr_drop, MCAST_DROP_SSDP_MISSING_HEADER);
                /* UDA 1.1 §1.3.2: MAN: "ssdp:discover", quoted; some stacks omit the quotes */
                if (!span_is(seen[SSDP_HEADER_MAN], "\"ssdp:discover\"") &&
                    !span_is(seen[SSDP_HEADER_MAN], "ssdp:discover"))
                        return drop(reterr_drop, MCAST_DROP_SSDP_HEADER_VALUE);
                if (have[SSDP_HEADER_MX] && ssdp_parse_mx(seen[SSDP_HEADER_MX], &info.mx) < 0)
                        return drop(reterr_drop, MCAST_DROP_SSDP_HEADER_VALUE);
                break;
        case SSDP_NOTIFY:
                if (!have[SSDP_HEADER_NT] || !have[SSDP_HEADER_NTS] || !have[SSDP_HEADER_USN])
                        return drop(reterr_drop, MCAST_DROP_SSDP_MISSING_HEADER);
                if (!span_is(seen[SSDP_HEADER_NTS], "ssdp:alive") &&
                    !span_is(seen[SSDP_HEADER_NTS], "ssdp:byebye") &&
                    !span_is(seen[SSDP_HEADER_NTS], "ssdp:update"))
                        return drop(reterr_drop, MCAST_DROP_SSDP_HEADER_VALUE);
                break;
        case SSDP_RESPONSE:
                if (!have[SSDP_HEADER_ST] || !have[SSDP_HEADER_USN])
                        return drop(reterr_drop, MCAST_DROP_SSDP_MISSING_HEADER);
                break;
        default:
                return drop(reterr_drop, MCAST_DROP_SSDP_START_LINE);
        }

        if (ret_info)
                *ret_info = info;
        return 0;
}
