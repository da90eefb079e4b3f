/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Command lines of every binary of the suite, from one table per binary: each entry names
 * a long option, its argument, its help text and the function that parses it into its
 * destination. The same table drives getopt_long() and --help, so the two cannot drift.
 * Parse functions check their value completely (a number is a whole number in range, a
 * mode is one of its names) and return a negative errno with a message in @err.
 *
 * A binary whose spec names a configuration file reads it before its command line, through
 * the same table: every long option but --help and --config is a key of the file, the
 * command line wins (it is applied after the file), and a bad line refuses to start with
 * the file's name, the line and the reason. The file holds lines of
 *
 *         # a comment (also ';'), from the first non-blank character of a line
 *         NAME = VALUE     the option --NAME=VALUE; blanks around NAME and VALUE dropped
 *         NAME             an option without argument (also NAME = yes|no)
 *
 * Parse functions may keep pointers into VALUE, as they do into argv: the file's text is
 * kept for the life of the process.
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
        /* Read before the command line, which can name another with --config=PATH (empty:
         * none); a missing default file is no error. NULL: no file and no --config. */
        const char *config_file;
} OptionsSpec;

/* The longest line and the largest configuration file accepted. */
#define OPTIONS_CONFIG_LINE_MAX 4096
#define OPTIONS_CONFIG_SIZE_MAX (1024 * 1024)

/*
 * options_parse() - parse the configuration file, if @spec names one, then argv against
 * @spec; --help prints the usage to stdout and exits (before any file is read).
 * @spec: the options
 * @argc: argument count
 * @argv: arguments; reordered so that the operands come last, as getopt_long() does
 * @ret_optind: the index of the first operand
 *
 * Return: 0, or a negative errno (-EINVAL for a bad option or line) after printing what is
 * wrong to stderr: "Invalid --NAME=VALUE: reason", or "FILE:LINE: reason".
 */
int options_parse(const OptionsSpec *spec, int argc, char **argv, int *ret_optind);

/*
 * options_usage() - print the --help text: usage, description, one entry per option.
 * @spec: the options
 * @f: where to
 */
void options_usage(const OptionsSpec *spec, FILE *f);

/*
 * options_parse_config() - apply the lines of a configuration file through @spec's table.
 * @spec: the options; each long option but --help and --config is a key
 * @text: the file's @size bytes plus a writable byte after them; cut into strings in place,
 *        and option values point into it, so it must live as long as they are used
 * @size: the file's length
 * @reterr_line: on failure, the number of the line at fault (from 1)
 * @err: on failure, the reason
 *
 * Lines are applied in order, so a later line for the same option wins (or adds to it, for
 * an option that may repeat). No line may be longer than OPTIONS_CONFIG_LINE_MAX or hold a
 * NUL byte.
 *
 * Return: 0, or -EINVAL with @reterr_line and @err set; the lines before it have been
 * applied, so the caller must not go on with the options.
 */
int options_parse_config(const OptionsSpec *spec, char *text, size_t size, unsigned *reterr_line,
                         ErrBuf *err);

/*
 * options_read_config() - read a configuration file whole, refusing one that someone other
 * than its owner may have written.
 * @path: the file
 * @ret_text: its bytes and a NUL after them (free())
 * @ret_size: how many bytes
 * @err: on failure, the reason
 *
 * A configuration file may name programs to run as root, so it must be a regular file
 * owned by root or by the effective user, writable by neither its group nor others, and at
 * most OPTIONS_CONFIG_SIZE_MAX bytes.
 *
 * Return: 0, -ENOENT if it does not exist, or a negative errno with @err set.
 */
int options_read_config(const char *path, char **ret_text, size_t *ret_size, ErrBuf *err);

/* Parsers for the common kinds; data points at the type named. */
int option_parse_string(const Option *o, const char *arg, ErrBuf *err);   /* const char * */
int option_parse_flag(const Option *o, const char *arg, ErrBuf *err);     /* bool, set */
int option_parse_on_off(const Option *o, const char *arg, ErrBuf *err);   /* bool */
int option_parse_int(const Option *o, const char *arg, ErrBuf *err);      /* int64_t in min..max */
int option_parse_fd(const Option *o, const char *arg, ErrBuf *err);       /* int, an open fd >= 3 */
int option_parse_log_level(const Option *o, const char *arg, ErrBuf *err); /* sets the level */
int option_parse_seccomp(const Option *o, const char *arg, ErrBuf *err);  /* SeccompMode */

/* The two options every binary of the suite has, alike everywhere: @dest is where
 * option_parse_log_level() and option_parse_seccomp() store. */
#define OPTION_LOG_LEVEL(dest)                                                                \
        { "log-level", 0, "LEVEL", "debug, info, notice, warning, error (default: info)",    \
          option_parse_log_level, (dest) }
#define OPTION_SECCOMP(dest)                                                                  \
        { "seccomp", 0, "enforce|log", "kill, or only log, a syscall outside the policy\n"   \
          "(default: enforce)", option_parse_seccomp, (dest) }
