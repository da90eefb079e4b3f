/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *log_ident = "patchpanel";
static bool log_to_journal;
static LogSinkFn log_sink;
static void *log_sink_userdata;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",  [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "error",    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",    [LOG_DEBUG] = "debug",
};

void log_setup(const char *ident) {
        if (ident) {
                log_ident = ident;
                /* The name ps, pidof and the journal show: a binary exec'd from an fd (the
                 * suite's own, by patchpaneld and its launcher) is named after the fd's
                 * number by kernels before 6.14. */
                (void) prctl(PR_SET_NAME, ident, 0, 0, 0);
        }
        log_to_journal = getenv("JOURNAL_STREAM") != NULL;
        /* A program started by a test or another process may get its level through the env. */
        const char *e = getenv("PATCHPANEL_LOG_LEVEL");
        if (e) {
                int l = log_level_from_string(e);
                if (l >= 0)
                        max_level = l;
        }
}

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (strcasecmp(s, level_names[i]) == 0)
                        return (int) i;
        if (strcasecmp(s, "err") == 0)
                return LOG_ERR;
        if (strcasecmp(s, "warn") == 0)
                return LOG_WARNING;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(level_names))
                return "unknown";
        return level_names[level];
}

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_sink(LogSinkFn fn, void *userdata) {
        log_sink = fn;
        log_sink_userdata = userdata;
}

static void log_write(int level, int error, const char *format, va_list ap) {
        char msg[2048];
        int saved = errno;

        errno = abs_errno(error);
        (void) vsnprintf(msg, sizeof msg, format, ap);
        errno = saved;

        if (log_sink)
                log_sink(level, msg, log_sink_userdata);
        else if (log_to_journal)
                fprintf(stderr, "<%d>%s\n", level, msg);
        else
                fprintf(stderr, "%s[%d]: %s: %s\n", log_ident, (int) getpid(),
                        log_level_to_string(level), msg);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        va_list ap;

        (void) file;
        (void) line;
        (void) func;
        va_start(ap, format);
        log_write(level, error, format, ap);
        va_end(ap);
        return -abs_errno(error);
}

void log_fatal(const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        log_write(LOG_CRIT, errno, format, ap);
        va_end(ap);
        exit(EXIT_FAILURE);
}
