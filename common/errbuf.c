/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

int errbuf_set(ErrBuf *e, int r, const char *format, ...) {
        va_list ap;
        int saved = errno;

        if (e) {
                errno = abs_errno(r);
                va_start(ap, format);
                (void) vsnprintf(e->msg, sizeof e->msg, format, ap);
                va_end(ap);
        }
        errno = saved;
        return r;
}
