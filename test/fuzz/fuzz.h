/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* What every fuzz target shares: libFuzzer's entry point, and a check that stays in
 * release builds (assert() would vanish under NDEBUG) and aborts so that libFuzzer keeps
 * the input. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(expr)                                                                \
        do {                                                                            \
                if (!(expr)) {                                                          \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                                #expr);                                                 \
                        abort();                                                        \
                }                                                                       \
        } while (0)
