/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Leveled logging to stderr, one line per message. Under systemd (JOURNAL_STREAM set) each
 * line starts with the syslog priority in <N> form so journald files it at the right level.
 * The *_errno() variants set errno from their first argument so "%m" prints it, and return
 * the negative errno so a caller can write "return log_error_errno(r, ...)".
 */

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Prefix for each line, normally the program name; log_setup() sets it, and names the
 * process after it (PR_SET_NAME). */
void log_setup(const char *ident);
/* Parse "debug", "info", "notice", "warning", "error" (or a syslog number). */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
void log_set_max_level(int level);
int log_get_max_level(void);

typedef void (*LogSinkFn)(int level, const char *message, void *userdata);
/*
 * log_set_sink() - send each line to @fn instead of stderr, for unit tests that check what
 * the code says where users see it; the level filter still applies first.
 * @fn: gets the line's level and its text (without the prefix); NULL goes back to stderr
 * @userdata: passed to @fn
 */
void log_set_sink(LogSinkFn fn, void *userdata);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                 \
        ({                                                                                \
                int _l_ = (level), _e_ = (error);                                         \
                (_l_ <= log_get_max_level())                                              \
                        ? log_internal(_l_, _e_, __FILE__, __LINE__, __func__, __VA_ARGS__) \
                        : -abs_errno(_e_);                                                \
        })

#define log_full(level, ...) (void) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...) log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, __VA_ARGS__)

/* For start-up failures and protocol violations by another process of the suite. */
_noreturn_ void log_fatal(const char *format, ...) _printf_(1, 2);
