/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the mcast library's unit tests: byte-building macros for hand-laid packets, and
 * a runner that makes every row of a table of cases its own named cmocka test, so a
 * failing malformed variant is reported by its name. Include after <cmocka.h>.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

/* Big-endian fields. */
#define U16(x) (uint8_t) ((unsigned) (x) >> 8 & 0xff), (uint8_t) ((unsigned) (x) & 0xff)
#define U32(x) U16((uint32_t) (x) >> 16), U16((uint32_t) (x) & 0xffff)

/* A table row's bytes: .msg and .len from one list. */
#define BYTES(...)                                                      \
        .msg = (const uint8_t[]) { __VA_ARGS__ },                       \
        .len = sizeof((const uint8_t[]) { __VA_ARGS__ })

/*
 * Run @fixed tests and then one test per row of @rows (each row a struct whose first member
 * is `const char *name`), as one group. The row is the test's state.
 */
static inline int mcast_run_tests(const char *group, const struct CMUnitTest *fixed,
                                  size_t n_fixed, CMUnitTestFunction row_test, const void *rows,
                                  size_t row_size, size_t n_rows) {
        struct CMUnitTest *all = calloc(n_fixed + n_rows, sizeof *all);
        int r;

        if (!all)
                return 1;
        for (size_t i = 0; i < n_fixed; i++)
                all[i] = fixed[i];
        for (size_t i = 0; i < n_rows; i++) {
                void *row = (char *) rows + i * row_size;

                all[n_fixed + i] = (struct CMUnitTest) {
                        .name = *(const char *const *) row,
                        .test_func = row_test,
                        .initial_state = row,
                };
        }
        r = _cmocka_run_group_tests(group, all, n_fixed + n_rows, NULL, NULL);
        free(all);
        return r;
}
