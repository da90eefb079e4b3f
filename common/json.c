/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_DEPTH_MAX 32

typedef struct Parser {
        const char *p;
        unsigned depth;
} Parser;

static void skip_ws(Parser *ps) {
        while (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r')
                ps->p++;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int parse_string(Parser *ps, char **ret) {
        const char *start;
        char *out, *o;

        if (*ps->p != '"')
                return -EINVAL;
        start = ++ps->p;
        /* The decoded string is never longer than its encoding. */
        while (*ps->p && *ps->p != '"') {
                if ((unsigned char) *ps->p < 0x20)
                        return -EINVAL; /* JSON strings carry control characters escaped */
                if (*ps->p == '\\' && ps->p[1])
                        ps->p++;
                ps->p++;
        }
        if (*ps->p != '"')
                return -EINVAL;
        out = o = malloc((size_t) (ps->p - start) + 1);
        if (!out)
                return -ENOMEM;
        for (const char *s = start; s < ps->p; s++) {
                if (*s != '\\') {
                        *o++ = *s;
                        continue;
                }
                s++;
                switch (*s) {
                case 'n': *o++ = '\n'; break;
                case 't': *o++ = '\t'; break;
                case 'r': *o++ = '\r'; break;
                case 'b': *o++ = '\b'; break;
                case 'f': *o++ = '\f'; break;
                case 'u': {
                        int a = s[1] ? hexval(s[1]) : -1, b = a >= 0 && s[2] ? hexval(s[2]) : -1,
                            c = b >= 0 && s[3] ? hexval(s[3]) : -1,
                            d = c >= 0 && s[4] ? hexval(s[4]) : -1;
                        if (d < 0 || a != 0 || b != 0 || (c == 0 && d == 0)) {
                                free(out);
                                return -EINVAL;
                        }
                        *o++ = (char) (c * 16 + d);
                        s += 4;
                        break;
                }
                case '"':
                case '\\':
                case '/':
                        *o++ = *s;
                        break;
                default:
                        free(out);
                        return -EINVAL;
                }
        }
        *o = '\0';
        ps->p++;
        *ret = out;
        return 0;
}

/* The end of a number in JSON's grammar (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or
 * NULL: strtod() alone would take hex, inf, nan, "+1", ".5"... */
static const char *number_end(const char *p) {
        if (*p == '-')
                p++;
        if (*p == '0')
                p++;
        else if (*p >= '1' && *p <= '9')
                while (*p >= '0' && *p <= '9')
                        p++;
        else
                return NULL;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return NULL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        if (*p == 'e' || *p == 'E') {
                p++;
                if (*p == '+' || *p == '-')
                        p++;
                if (*p < '0' || *p > '9')
                        return NULL;
                while (*p >= '0' && *p <= '9')
                        p++;
        }
        return p;
}

static int parse_value(Parser *ps, JsonValue **ret);

static int parse_container(Parser *ps, JsonValue *v, char close) {
        JsonValue **tail = &v->child;
        int r;

        if (++ps->depth > JSON_DEPTH_MAX)
                return -EINVAL;
        ps->p++;
        skip_ws(ps);
        if (*ps->p == close) {
                ps->p++;
                ps->depth--;
                return 0;
        }
        for (;;) {
                char *key = NULL;
                JsonValue *item;

                skip_ws(ps);
                if (v->type == JSON_OBJECT) {
                        r = parse_string(ps, &key);
                        if (r < 0)
                                return r;
                        skip_ws(ps);
                        if (*ps->p != ':') {
                                free(key);
                                return -EINVAL;
                        }
                        ps->p++;
                }
                r = parse_value(ps, &item);
                if (r < 0) {
                        free(key);
                        return r;
                }
                item->key = key;
                *tail = item;
                tail = &item->next;
                skip_ws(ps);
                if (*ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (*ps->p == close) {
                        ps->p++;
                        ps->depth--;
                        return 0;
                }
                return -EINVAL;
        }
}

static int parse_value(Parser *ps, JsonValue **ret) {
        JsonValue *v = calloc(1, sizeof *v);
        int r = 0;

        if (!v)
                return -ENOMEM;
        skip_ws(ps);
        switch (*ps->p) {
        case '{':
                v->type = JSON_OBJECT;
                r = parse_container(ps, v, '}');
                break;
        case '[':
                v->type = JSON_ARRAY;
                r = parse_container(ps, v, ']');
                break;
        case '"':
                v->type = JSON_STRING;
                r = parse_string(ps, &v->string);
                break;
        case 't':
        case 'f':
        case 'n': {
                static const struct { const char *word; JsonType type; bool value; } words[] = {
                        { "true", JSON_BOOL, true }, { "false", JSON_BOOL, false },
                        { "null", JSON_NULL, false },
                };
                r = -EINVAL;
                for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
                        if (strncmp(ps->p, words[i].word, strlen(words[i].word)) == 0) {
                                v->type = words[i].type;
                                v->boolean = words[i].value;
                                ps->p += strlen(words[i].word);
                                r = 0;
                                break;
                        }
                break;
        }
        default: {
                const char *end = number_end(ps->p);
                char *stop;
                v->type = JSON_NUMBER;
                if (!end) {
                        r = -EINVAL;
                        break;
                }
                v->number = strtod(ps->p, &stop);
                if (stop != end)
                        r = -EINVAL;
                if (r == 0 && ps->p[0] != '-' && strspn(ps->p, "0123456789") == (size_t) (end - ps->p)) {
                        errno = 0;
                        unsigned long long u = strtoull(ps->p, &stop, 10);
                        v->integer = errno == 0 && stop == end;
                        v->u64 = v->integer ? (uint64_t) u : 0;
                }
                ps->p = end;
        }
        }
        if (r < 0) {
                json_free(v);
                return r;
        }
        *ret = v;
        return 0;
}

int json_parse(const char *text, JsonValue **ret) {
        Parser ps = { .p = text };
        JsonValue *v;
        int r;

        r = parse_value(&ps, &v);
        if (r < 0)
                return r;
        skip_ws(&ps);
        if (*ps.p != '\0') {
                json_free(v);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

JsonValue *json_free(JsonValue *v) {
        while (v) {
                JsonValue *next = v->next;
                json_free(v->child);
                free(v->string);
                free(v->key);
                free(v);
                v = next;
        }
        return NULL;
}

const JsonValue *json_get(const JsonValue *object, const char *key) {
        if (!object || object->type != JSON_OBJECT)
                return NULL;
        for (const JsonValue *c = object->child; c; c = c->next)
                if (c->key && strcmp(c->key, key) == 0)
                        return c;
        return NULL;
}

const char *json_get_string(const JsonValue *object, const char *key) {
        const JsonValue *v = json_get(object, key);
        return v && v->type == JSON_STRING ? v->string : "";
}

long long json_get_int(const JsonValue *object, const char *key) {
        const JsonValue *v = json_get(object, key);

        if (!v || v->type != JSON_NUMBER)
                return 0;
        /* Out of range (1e19, an overflow to inf) would make the conversion undefined. */
        if (!(v->number > -9.2e18 && v->number < 9.2e18))
                return 0;
        return (long long) v->number;
}

bool json_get_bool(const JsonValue *object, const char *key) {
        const JsonValue *v = json_get(object, key);
        return v && v->type == JSON_BOOL && v->boolean;
}

int json_value_u64(const JsonValue *v, uint64_t *ret) {
        if (!v || v->type != JSON_NUMBER || !v->integer)
                return -EINVAL;
        *ret = v->u64;
        return 0;
}

int json_get_u64(const JsonValue *object, const char *key, uint64_t *ret) {
        return json_value_u64(json_get(object, key), ret);
}
