/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* A small JSON reader for the daemon's status document and libnftables' listings: parse
 * into a tree, look members up by name. Not a general-purpose library: no unicode escapes
 * beyond \u0001..\u00ff. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOL,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
        JsonType type;
        bool boolean;
        double number;
        bool integer;      /* JSON_NUMBER written as a non-negative integer that fits: */
        uint64_t u64;      /*   its exact value (a double holds only 53 bits) */
        char *string;      /* JSON_STRING */
        char *key;         /* set when the value is an object member */
        JsonValue *child;  /* JSON_ARRAY / JSON_OBJECT: first element */
        JsonValue *next;   /* next sibling */
};

/* Return: 0, -EINVAL for malformed text (or nesting beyond 32), -ENOMEM. */
int json_parse(const char *text, JsonValue **ret);
JsonValue *json_free(JsonValue *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(JsonValue *, json_free);

/* A member of an object, or NULL. */
const JsonValue *json_get(const JsonValue *object, const char *key);
/* The member's string, or "" when missing or not a string. */
const char *json_get_string(const JsonValue *object, const char *key);
/* The member's number, or 0 (also when it does not fit a long long). */
long long json_get_int(const JsonValue *object, const char *key);
bool json_get_bool(const JsonValue *object, const char *key);
/* The member's exact value as an unsigned integer: 0, or -EINVAL when missing, not a
 * number, negative, fractional or beyond 64 bits. */
int json_get_u64(const JsonValue *object, const char *key, uint64_t *ret);
/* A value's exact unsigned integer, as json_get_u64(). */
int json_value_u64(const JsonValue *v, uint64_t *ret);
