/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Command lines of every binary of the suite, from one table per binary: each entry names
 * a long option, its argument, its help text and the function that parses it into its
 * destination. The same table drives getopt_long() and --help, so the two cannot drift.
 * Parse functions check their value completely (a number is a whole number in range, a
 * mode is one of its names) and return a negative errno with a message in @err.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "errbuf.h"

typedef struct Option Option;

/* Parse @arg (NULL for an option without argument) into o->data. */
typedef int (*OptionParseFn)(const Option *o, const char *arg, ErrBuf *err);

struct Option {
        const char *name;     /* long name, without the dashes */
        char short_name;      /* or 0 */
        const char *arg;      /* placeholder in --help ("NAME", "on|off"); NULL: no argument */
        const char *help;     /* what it does, and its default; may hold newlines */
        OptionParseFn parse;
        void *data;           /* where parse stores the value */
        int64_t min, max;     /* for option_parse_int() */
};

typedef struct OptionsSpec {
        const char *usage;       /* e.g. "patchpaneld [OPTIONS]" */
        const char *description; /* a few lines under it */
        const Option *options;
        size_t n_options;
} OptionsSpec;

/*
 * options_parse() - parse argv against @spec; --help prints the usage to stdout and exits.
 * @ret_optind: the index of the first operand
 * Return: 0, or -EINVAL after printing what is wrong to stderr.
 */
int options_parse(const OptionsSpec *spec, int argc, char **argv, int *ret_optind);

/* The --help text. */
void options_usage(const OptionsSpec *spec, FILE *f);

/* Parsers for the common kinds; data points at the type named. */
int option_parse_string(const Option *o, const char *arg, ErrBuf *err);   /* const char * */
int option_parse_flag(const Option *o, const char *arg, ErrBuf *err);     /* bool, set */
int option_parse_on_off(const Option *o, const char *arg, ErrBuf *err);   /* bool */
int option_parse_int(const Option *o, const char *arg, ErrBuf *err);      /* int64_t in min..max */
int option_parse_fd(const Option *o, const char *arg, ErrBuf *err);       /* int, an open fd >= 3 */
int option_parse_log_level(const Option *o, const char *arg, ErrBuf *err); /* sets the level */
int option_parse_seccomp(const Option *o, const char *arg, ErrBuf *err);  /* SeccompMode */
