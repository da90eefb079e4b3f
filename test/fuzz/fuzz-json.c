/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON reader (common/json.c) over any text: the daemon's status document and
 * libnftables' listings pass through it, and patchpanel-cli reads what the bus hands it.
 *
 * Input: the text (cut at its first NUL, as a C string is). A parsed tree is walked with
 * every accessor, which must hold what json.h promises: a number marked integer has the
 * exact value of its digits, an accessor of the wrong type answers its default, and the
 * tree is freed without a leak.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

static void walk(const JsonValue *v, unsigned depth) {
        FUZZ_CHECK(depth <= 33);
        for (; v; v = v->next) {
                uint64_t u;

                switch (v->type) {
                case JSON_NUMBER:
                        if (json_value_u64(v, &u) == 0) {
                                FUZZ_CHECK(v->integer && u == v->u64);
                                /* A double holds integers exactly up to 2^53. */
                                if (u <= (UINT64_C(1) << 53))
                                        FUZZ_CHECK(v->number == (double) u);
                        } else
                                FUZZ_CHECK(!v->integer);
                        FUZZ_CHECK(!isnan(v->number));
                        break;
                case JSON_STRING:
                        FUZZ_CHECK(v->string);
                        break;
                case JSON_OBJECT:
                        for (const JsonValue *c = v->child; c; c = c->next) {
                                const JsonValue *found;

                                FUZZ_CHECK(c->key);
                                found = json_get(v, c->key);
                                /* The first member of that name. */
                                FUZZ_CHECK(found && strcmp(found->key, c->key) == 0);
                                (void) json_get_int(v, c->key);
                                (void) json_get_bool(v, c->key);
                                (void) json_get_u64(v, c->key, &u);
                                if (found->type != JSON_STRING)
                                        FUZZ_CHECK(strcmp(json_get_string(v, c->key), "") == 0);
                        }
                        walk(v->child, depth + 1);
                        break;
                case JSON_ARRAY:
                        FUZZ_CHECK(json_get(v, "") == NULL);
                        walk(v->child, depth + 1);
                        break;
                case JSON_BOOL:
                case JSON_NULL:
                        FUZZ_CHECK(json_value_u64(v, &u) == -EINVAL);
                        break;
                default:
                        FUZZ_CHECK(v->type <= JSON_OBJECT);
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        char *text = malloc(size + 1);
        int r;

        FUZZ_CHECK(text);
        memcpy(text, data, size);
        text[size] = '\0';
        r = json_parse(text, &v);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r == 0) {
                FUZZ_CHECK(v);
                walk(v, 0);
                FUZZ_CHECK(json_get_string(v, "no such key")[0] == '\0');
        }
        free(text);
        return 0;
}
