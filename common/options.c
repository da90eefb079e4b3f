/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "seccomp-policy.h"

/* getopt_long()'s values: 'h' for --help, then these, then 0x100 + the option's index. */
#define OPTION_CONFIG 0xff

/* One --help entry: the head, then the help in a column of its own (a long head gets its
 * own line), continuation lines indented to that column. */
static void usage_entry(FILE *f, char short_name, const char *name, const char *arg,
                        const char *help) {
        char head[64];
        int n;

        if (short_name)
                n = snprintf(head, sizeof head, "  -%c, --%s%s%s", short_name, name,
                             arg ? "=" : "", arg ?: "");
        else
                n = snprintf(head, sizeof head, "  --%s%s%s", name, arg ? "=" : "", arg ?: "");
        fputs(head, f);
        if (n >= 26)
                fprintf(f, "\n%26s", "");
        else
                fprintf(f, "%*s", 26 - n, "");
        for (const char *h = help ?: ""; *h; h++) {
                fputc(*h, f);
                if (*h == '\n' && h[1])
                        fprintf(f, "%26s", "");
        }
        fputc('\n', f);
}

void options_usage(const OptionsSpec *spec, FILE *f) {
        fprintf(f, "Usage: %s\n", spec->usage);
        if (spec->description)
                fprintf(f, "%s\n", spec->description);
        fputc('\n', f);
        for (size_t i = 0; i < spec->n_options; i++) {
                const Option *o = &spec->options[i];

                usage_entry(f, o->short_name, o->name, o->arg, o->help);
        }
        if (spec->config_file) {
                char help[512];

                snprintf(help, sizeof help, "read options from PATH first; the command line wins\n"
                         "(an empty PATH reads none; default:\n%s)", spec->config_file);
                usage_entry(f, 0, "config", "PATH", help);
        }
        fprintf(f, "  -h, --help              this text\n");
}

static const Option *option_find(const OptionsSpec *spec, const char *name) {
        for (size_t i = 0; i < spec->n_options; i++)
                if (strcmp(spec->options[i].name, name) == 0)
                        return &spec->options[i];
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* An option name as the table spells them: lower-case letters, digits and dashes. */
static bool is_name(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
                        return false;
        return true;
}

/* One line, without its newline, NUL-terminated; blank and comment lines do nothing. */
static int config_apply_line(const OptionsSpec *spec, char *line, ErrBuf *err) {
        char *key, *value = NULL, *end;
        const Option *o;
        ErrBuf e = {};
        int r;

        while (is_blank(*line))
                line++;
        if (*line == '\0' || *line == '#' || *line == ';')
                return 0;
        end = line + strlen(line);
        while (end > line && is_blank(end[-1]))
                *--end = '\0';

        key = line;
        end = key + strcspn(key, "= \t\r\v\f");
        value = end + strspn(end, " \t\r\v\f");
        if (*value == '=') {
                value++;
                value += strspn(value, " \t\r\v\f");
        } else if (*value == '\0')
                value = NULL;
        else
                return errbuf_set(err, -EINVAL, "expected NAME = VALUE");
        *end = '\0';
        if (!is_name(key))
                return errbuf_set(err, -EINVAL, "expected NAME = VALUE, NAME an option's long name");

        o = option_find(spec, key);
        if (!o)
                return errbuf_set(err, -EINVAL, "unknown option \"%s\"", key);
        if (!o->arg) {
                /* A switch: the bare name or yes turns it on; no leaves it as it was. */
                if (value && (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
                              strcmp(value, "off") == 0))
                        return 0;
                if (value && strcmp(value, "yes") != 0 && strcmp(value, "true") != 0 &&
                    strcmp(value, "on") != 0)
                        return errbuf_set(err, -EINVAL, "%s takes no value, or yes or no", key);
                r = o->parse(o, NULL, &e);
        } else {
                if (!value)
                        return errbuf_set(err, -EINVAL, "%s needs a value: %s = %s", key, key,
                                          o->arg);
                r = o->parse(o, value, &e);
        }
        if (r < 0)
                return errbuf_set(err, -EINVAL, "invalid %s = %s: %s", key, value ?: "yes", e.msg);
        return 0;
}

int options_parse_config(const OptionsSpec *spec, char *text, size_t size, unsigned *reterr_line,
                         ErrBuf *err) {
        unsigned line = 0;
        size_t off = 0;
        int r;

        while (off < size) {
                char *start = text + off, *nl = memchr(start, '\n', size - off);
                size_t len = nl ? (size_t) (nl - start) : size - off;

                line++;
                off += len + (nl ? 1 : 0);
                if (len > OPTIONS_CONFIG_LINE_MAX)
                        r = errbuf_set(err, -EINVAL, "line longer than %d bytes",
                                       OPTIONS_CONFIG_LINE_MAX);
                else if (memchr(start, '\0', len))
                        r = errbuf_set(err, -EINVAL, "a NUL byte in the line");
                else {
                        /* The newline, or the byte after the text. */
                        start[len] = '\0';
                        r = config_apply_line(spec, start, err);
                }
                if (r < 0) {
                        *reterr_line = line;
                        return r;
                }
        }
        return 0;
}

int options_read_config(const char *path, char **ret_text, size_t *ret_size, ErrBuf *err) {
        _cleanup_close_ int config_fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t n = 0;

        config_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (config_fd < 0)
                return errno == ENOENT ? -ENOENT : errbuf_set(err, -errno, "cannot open: %m");
        if (fstat(config_fd, &st) < 0)
                return errbuf_set(err, -errno, "cannot stat: %m");
        if (!S_ISREG(st.st_mode))
                return errbuf_set(err, -EINVAL, "not a regular file");
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return errbuf_set(err, -EPERM, "owned by uid %u with mode %04o: it must belong to "
                                  "root (or to the user running this) and be writable by no one "
                                  "else", (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
        if (st.st_size > OPTIONS_CONFIG_SIZE_MAX)
                return errbuf_set(err, -EFBIG, "larger than %d bytes", OPTIONS_CONFIG_SIZE_MAX);
        text = malloc((size_t) st.st_size + 1);
        if (!text)
                return errbuf_set(err, -ENOMEM, "out of memory");
        /* Read to the end, and no further than the size checked (the file may grow). */
        for (;;) {
                ssize_t k = read(config_fd, text + n, (size_t) st.st_size + 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return errbuf_set(err, -errno, "cannot read: %m");
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > (size_t) st.st_size)
                        return errbuf_set(err, -EFBIG, "changed while being read");
        }
        text[n] = '\0';
        *ret_size = n;
        *ret_text = TAKE_PTR(text);
        return 0;
}

/* The texts of the files read: option values point into them, for the life of the process. */
static char **config_texts;
static size_t n_config_texts;

/* Read and apply @path; a missing file is fine unless @named on the command line. */
static int options_load_config(const OptionsSpec *spec, const char *path, bool named) {
        _cleanup_free_ char *text = NULL;
        unsigned line = 0;
        ErrBuf err = {};
        char **l;
        size_t size;
        int r;

        if (!*path)
                return 0;
        r = options_read_config(path, &text, &size, &err);
        if (r == -ENOENT && !named)
                return 0;
        if (r == -ENOENT)
                errbuf_set(&err, r, "no such file");
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, err.msg);
                return r;
        }
        l = realloc(config_texts, (n_config_texts + 1) * sizeof *l);
        if (!l)
                return -ENOMEM;
        config_texts = l;
        r = options_parse_config(spec, text, size, &line, &err);
        config_texts[n_config_texts++] = TAKE_PTR(text);
        if (r < 0) {
                fprintf(stderr, "%s:%u: %s\n", path, line, err.msg);
                return r;
        }
        return 0;
}

int options_parse(const OptionsSpec *spec, int argc, char **argv, int *ret_optind) {
        _cleanup_free_ struct option *longs = NULL;
        char shorts[2 * 32 + 2] = "h";
        size_t ns = 1;
        int c, r;

        longs = calloc(spec->n_options + 3, sizeof *longs);
        if (!longs)
                return -ENOMEM;
        for (size_t i = 0; i < spec->n_options; i++) {
                const Option *o = &spec->options[i];
                longs[i] = (struct option) {
                        .name = o->name,
                        .has_arg = o->arg ? required_argument : no_argument,
                        .val = 0x100 + (int) i,
                };
                if (o->short_name && ns + 2 < sizeof shorts) {
                        shorts[ns++] = o->short_name;
                        if (o->arg)
                                shorts[ns++] = ':';
                }
        }
        longs[spec->n_options] = (struct option) { .name = "help", .val = 'h' };
        if (spec->config_file)
                longs[spec->n_options + 1] = (struct option) {
                        .name = "config", .has_arg = required_argument, .val = OPTION_CONFIG,
                };
        shorts[ns] = '\0';

        if (spec->config_file) {
                /* A first pass for --help and --config only, quietly: the second reports
                 * what is wrong, after the file, so that the command line wins. */
                const char *path = spec->config_file;
                bool named = false;

                opterr = 0;
                optind = 0;
                while ((c = getopt_long(argc, argv, shorts, longs, NULL)) >= 0) {
                        if (c == 'h') {
                                options_usage(spec, stdout);
                                exit(EXIT_SUCCESS);
                        }
                        if (c == OPTION_CONFIG) {
                                path = optarg;
                                named = true;
                        }
                }
                opterr = 1;
                r = options_load_config(spec, path, named);
                if (r < 0)
                        return r;
        }

        optind = 0;
        while ((c = getopt_long(argc, argv, shorts, longs, NULL)) >= 0) {
                const Option *o = NULL;
                ErrBuf err = {};

                if (c == 'h') {
                        options_usage(spec, stdout);
                        exit(EXIT_SUCCESS);
                }
                if (c == OPTION_CONFIG)
                        continue;
                if (c >= 0x100 && (size_t) (c - 0x100) < spec->n_options)
                        o = &spec->options[c - 0x100];
                for (size_t i = 0; !o && i < spec->n_options; i++)
                        if (spec->options[i].short_name == c)
                                o = &spec->options[i];
                if (!o) {
                        options_usage(spec, stderr);
                        return -EINVAL;
                }
                r = o->parse(o, optarg, &err);
                if (r < 0) {
                        if (optarg)
                                fprintf(stderr, "Invalid --%s=%s: %s\n", o->name, optarg, err.msg);
                        else
                                fprintf(stderr, "Invalid --%s: %s\n", o->name, err.msg);
                        return -EINVAL;
                }
        }
        *ret_optind = optind;
        return 0;
}

int option_parse_string(const Option *o, const char *arg, ErrBuf *err) {
        if (!arg || !*arg)
                return errbuf_set(err, -EINVAL, "must not be empty");
        *(const char **) o->data = arg;
        return 0;
}

int option_parse_flag(const Option *o, const char *arg, ErrBuf *err) {
        (void) arg;
        (void) err;
        *(bool *) o->data = true;
        return 0;
}

int option_parse_on_off(const Option *o, const char *arg, ErrBuf *err) {
        if (strcmp(arg, "on") == 0)
                *(bool *) o->data = true;
        else if (strcmp(arg, "off") == 0)
                *(bool *) o->data = false;
        else
                return errbuf_set(err, -EINVAL, "on or off");
        return 0;
}

int option_parse_int(const Option *o, const char *arg, ErrBuf *err) {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(arg, &end, 10);
        if (errno != 0 || end == arg || *end != '\0' || v < o->min || v > o->max)
                return errbuf_set(err, -EINVAL, "a whole number from %lld to %lld",
                                  (long long) o->min, (long long) o->max);
        *(int64_t *) o->data = v;
        return 0;
}

int option_parse_fd(const Option *o, const char *arg, ErrBuf *err) {
        int64_t v;
        Option range = *o;
        int r;

        range.min = 3;
        range.max = 65535;
        range.data = &v;
        r = option_parse_int(&range, arg, err);
        if (r < 0)
                return r;
        if (fcntl((int) v, F_GETFD) < 0)
                return errbuf_set(err, -EBADF, "not an open file descriptor");
        *(int *) o->data = (int) v;
        return 0;
}

int option_parse_log_level(const Option *o, const char *arg, ErrBuf *err) {
        int r = log_level_from_string(arg);

        if (r < 0)
                return errbuf_set(err, r, "debug, info, notice, warning or error");
        log_set_max_level(r);
        if (o->data)
                *(const char **) o->data = arg;
        return 0;
}

int option_parse_seccomp(const Option *o, const char *arg, ErrBuf *err) {
        SeccompMode m = seccomp_mode_from_string(arg);

        if (m < 0)
                return errbuf_set(err, -EINVAL, "enforce or log");
        *(SeccompMode *) o->data = m;
        return 0;
}
