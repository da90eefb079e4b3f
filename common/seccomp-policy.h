/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Seccomp policies, one text file per process under seccomp/, compiled into the binary
 * and loaded at start through libseccomp. Each line allows one syscall, optionally only
 * for listed values of one argument:
 *
 *     read                              # log_write(), ipc_recv()
 *     socket arg0 AF_UNIX AF_NETLINK    # uplinks_open()
 *
 * A leading '?' marks a syscall that may not exist on every architecture. Values are
 * numbers, names from a small table (address families, prctl options, fcntl commands), or
 * `self`, the pid of the process that loads the policy:
 *
 *     tgkill arg0 self                  # abort(): our own threads, no other process
 *
 * Anything not allowed kills the process (enforce) or is only logged by the kernel (log).
 */

typedef enum SeccompMode {
        SECCOMP_MODE_ENFORCE,
        SECCOMP_MODE_LOG,
        _SECCOMP_MODE_MAX,
        _SECCOMP_MODE_INVALID = -22,
} SeccompMode;

SeccompMode seccomp_mode_from_string(const char *s);
const char *seccomp_mode_to_string(SeccompMode m);

/*
 * seccomp_policy_load() - parse a policy and install it in the calling thread's process.
 * @text: the policy, NUL-terminated
 * @mode: what happens on a syscall the policy does not allow
 * @reterr_line: on a parse error, the 1-based line that failed
 *
 * The caller must have set no_new_privs (or hold CAP_SYS_ADMIN).
 *
 * Return: 0, -EINVAL for a malformed line, or a negative errno from libseccomp.
 */
int seccomp_policy_load(const char *text, SeccompMode mode, unsigned *reterr_line);
