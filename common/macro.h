/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                     \
        ({                                              \
                typeof(p) _ptr_ = (p);                  \
                (p) = NULL;                             \
                _ptr_;                                  \
        })

#define TAKE_FD(fd)                                     \
        ({                                              \
                int _fd_ = (fd);                        \
                (fd) = -EBADF;                          \
                _fd_;                                   \
        })

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}

static inline void freep(void *p) {
        free(*(void **) p);
}

#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_free_ _cleanup_(freep)

/* Bind a type to its destructor once: DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free).
 * Unused is fine: a .c file may bind a type it then happens not to use (clang warns). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
        _unused_ static inline void func##p(type *p) {  \
                if (*p)                                 \
                        func(*p);                       \
        }

/* The positive errno of a negative return code, for strerror(). */
static inline int abs_errno(int r) {
        return r < 0 ? -r : r;
}

#define RET_NERRNO(expr)                                \
        ({                                              \
                int _r_ = (expr);                       \
                _r_ < 0 ? -errno : _r_;                 \
        })
