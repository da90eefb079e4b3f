/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "seccomp-policy.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release);

#define POLICY_ARGS_MAX 16

static const struct {
        const char *name;
        uint64_t value;
} symbols[] = {
        { "AF_UNIX", AF_UNIX },
        { "AF_INET", AF_INET },
        { "AF_INET6", AF_INET6 },
        { "AF_NETLINK", AF_NETLINK },
        { "AF_PACKET", AF_PACKET },
        { "PR_SET_NAME", PR_SET_NAME },
        { "PR_GET_NAME", PR_GET_NAME },
        { "PR_SET_DUMPABLE", PR_SET_DUMPABLE },
        { "PR_GET_DUMPABLE", PR_GET_DUMPABLE },
        { "PR_SET_PDEATHSIG", PR_SET_PDEATHSIG },
        { "PR_SET_PTRACER", PR_SET_PTRACER },
        { "PR_CAPBSET_READ", PR_CAPBSET_READ },
        { "PR_CAP_AMBIENT", PR_CAP_AMBIENT },
        { "PR_SET_NO_NEW_PRIVS", PR_SET_NO_NEW_PRIVS },
        { "PR_GET_NO_NEW_PRIVS", PR_GET_NO_NEW_PRIVS },
        { "PR_GET_SECUREBITS", PR_GET_SECUREBITS },
        { "PR_SET_SECUREBITS", PR_SET_SECUREBITS },
        { "PR_GET_KEEPCAPS", PR_GET_KEEPCAPS },
        { "PR_SET_KEEPCAPS", PR_SET_KEEPCAPS },
        { "PR_SET_SECCOMP", PR_SET_SECCOMP },
        { "PR_CAPBSET_DROP", PR_CAPBSET_DROP },
        { "AF_VSOCK", AF_VSOCK },
        { "F_DUPFD", F_DUPFD },
        { "F_DUPFD_CLOEXEC", F_DUPFD_CLOEXEC },
        { "F_GETFD", F_GETFD },
        { "F_SETFD", F_SETFD },
        { "F_GETFL", F_GETFL },
        { "F_SETFL", F_SETFL },
        { "F_GETPIPE_SZ", F_GETPIPE_SZ },
        { "F_SETPIPE_SZ", F_SETPIPE_SZ },
};

static const char *const mode_names[_SECCOMP_MODE_MAX] = {
        [SECCOMP_MODE_ENFORCE] = "enforce",
        [SECCOMP_MODE_LOG] = "log",
};

SeccompMode seccomp_mode_from_string(const char *s) {
        for (int i = 0; i < _SECCOMP_MODE_MAX; i++)
                if (s && strcmp(s, mode_names[i]) == 0)
                        return (SeccompMode) i;
        return _SECCOMP_MODE_INVALID;
}

const char *seccomp_mode_to_string(SeccompMode m) {
        if (m < 0 || m >= _SECCOMP_MODE_MAX)
                return NULL;
        return mode_names[m];
}

static int parse_value(const char *s, uint64_t *ret) {
        char *end;

        if (strcmp(s, "self") == 0) {
                *ret = (uint64_t) getpid();
                return 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(symbols); i++)
                if (strcmp(s, symbols[i].name) == 0) {
                        *ret = symbols[i].value;
                        return 0;
                }
        errno = 0;
        unsigned long long v = strtoull(s, &end, 0);
        if (errno != 0 || end == s || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int policy_add_line(scmp_filter_ctx ctx, char *line) {
        char *save = NULL, *tok;
        const char *name;
        bool optional = false;
        int nr, arg = -1, r;
        uint64_t values[POLICY_ARGS_MAX];
        size_t n_values = 0;

        tok = strtok_r(line, " \t", &save);
        if (!tok)
                return 0;
        if (tok[0] == '?') {
                optional = true;
                tok++;
        }
        name = tok;

        tok = strtok_r(NULL, " \t", &save);
        if (tok) {
                if (strncmp(tok, "arg", 3) != 0 || tok[3] < '0' || tok[3] > '5' || tok[4] != '\0')
                        return -EINVAL;
                arg = tok[3] - '0';
                while ((tok = strtok_r(NULL, " \t", &save))) {
                        if (n_values >= POLICY_ARGS_MAX)
                                return -EINVAL;
                        r = parse_value(tok, &values[n_values++]);
                        if (r < 0)
                                return r;
                }
                if (n_values == 0)
                        return -EINVAL;
        }

        nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return optional ? 0 : -EINVAL;

        if (arg < 0)
                return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
        for (size_t i = 0; i < n_values; i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
                                     SCMP_CMP((unsigned) arg, SCMP_CMP_EQ, values[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

int seccomp_policy_load(const char *text, SeccompMode mode, unsigned *reterr_line) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_free_ char *copy = NULL;
        char *line, *next;
        unsigned lineno = 0;
        int r;

        if (mode < 0 || mode >= _SECCOMP_MODE_MAX)
                return -EINVAL;
        ctx = seccomp_init(mode == SECCOMP_MODE_ENFORCE ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG);
        if (!ctx)
                return -ENOMEM;
        copy = strdup(text);
        if (!copy)
                return -ENOMEM;

        for (line = copy; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                lineno++;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = '\0';
                r = policy_add_line(ctx, line);
                if (r < 0) {
                        if (reterr_line)
                                *reterr_line = lineno;
                        return r;
                }
        }

        /* Every thread of the process, not only the caller: a thread started before the
         * policy (the helper's link reaper) must not be left unfiltered. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                return r;
        return seccomp_load(ctx);
}
