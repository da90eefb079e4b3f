/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "seccomp-policy.h"

void options_usage(const OptionsSpec *spec, FILE *f) {
        fprintf(f, "Usage: %s\n", spec->usage);
        if (spec->description)
                fprintf(f, "%s\n", spec->description);
        fputc('\n', f);
        for (size_t i = 0; i < spec->n_options; i++) {
                const Option *o = &spec->options[i];
                char head[64];
                int n;

                if (o->short_name)
                        n = snprintf(head, sizeof head, "  -%c, --%s%s%s", o->short_name, o->name,
                                     o->arg ? "=" : "", o->arg ?: "");
                else
                        n = snprintf(head, sizeof head, "  --%s%s%s", o->name, o->arg ? "=" : "",
                                     o->arg ?: "");
                fputs(head, f);
                /* Help in a column of its own; a long head gets its own line. */
                const char *h = o->help ?: "";
                if (n >= 26)
                        fprintf(f, "\n%26s", "");
                else
                        fprintf(f, "%*s", 26 - n, "");
                for (; *h; h++) {
                        fputc(*h, f);
                        if (*h == '\n' && h[1])
                                fprintf(f, "%26s", "");
                }
                fputc('\n', f);
        }
        fprintf(f, "  -h, --help              this text\n");
}

int options_parse(const OptionsSpec *spec, int argc, char **argv, int *ret_optind) {
        _cleanup_free_ struct option *longs = NULL;
        char shorts[2 * 32 + 2] = "h";
        size_t ns = 1;
        int c;

        longs = calloc(spec->n_options + 2, sizeof *longs);
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
        shorts[ns] = '\0';

        optind = 1;
        while ((c = getopt_long(argc, argv, shorts, longs, NULL)) >= 0) {
                const Option *o = NULL;
                ErrBuf err = {};
                int r;

                if (c == 'h') {
                        options_usage(spec, stdout);
                        exit(EXIT_SUCCESS);
                }
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
