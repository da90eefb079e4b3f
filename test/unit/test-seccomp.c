/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/seccomp-policy.h: policy parsing and loading.
 *
 * The test process itself never loads a filter: every seccomp_policy_load() call runs in a
 * forked child (run_policy()), which sets no_new_privs, loads, reports the result and line
 * number through a pipe, then runs the test's action and exits with exit_group() (no
 * stdio, no atexit handlers, nothing the sanitizer runtimes would do at exit). The parent
 * checks the report and how the child ended. Every policy that can load lists write and
 * exit_group, which the child needs to report and to exit.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "seccomp-policy.h"

/* What the child can do once the policy is loaded; returns its exit code. */
typedef int (*ChildAction)(void);

typedef struct Report {
        int r;
        unsigned line;
} Report;

typedef struct Outcome {
        bool reported;  /* the child got as far as reporting */
        Report report;
        int status;     /* from waitpid() */
} Outcome;

#define BASE "write\nexit_group\n"
#define EXIT_LOAD_FAILED 3

#ifdef PP_SANITIZE
/* AddressSanitizer checks the signal stack (sigaltstack) before every call to a noreturn
 * function, child_exit() included; the policies of the daemons get the same line from
 * seccomp/sanitizers.policy. Appended after the policy, so line numbers do not move. */
#define SANITIZER_EXTRA "\nsigaltstack\n"
#else
#define SANITIZER_EXTRA ""
#endif

static _noreturn_ void child_exit(int code) {
        for (;;)
                syscall(SYS_exit_group, code);
}

/* The test process, and in a child the child itself (set before any policy is loaded). */
static pid_t test_pid, self_pid;
/* In a child: the write end of its report pipe, an fd of its own to try fcntl() on. */
static int report_fd = -EBADF;

/* In a list of policies: fork here, and load the rest in the new process (as a child of the
 * launcher does), while this one waits for it and passes its wait status on. */
static const char FORK_HERE[] = "";

static void read_all(int fd, void *buf, size_t size, size_t *ret_n) {
        size_t n = 0;
        ssize_t k;

        while (n < size) {
                k = read(fd, (char *) buf + n, size - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        *ret_n = n;
}

/* Load each of @policies in turn (a NULL-terminated list: more than one when a child runs
 * under its parent's policy too), stopping at the first that fails. */
static _noreturn_ void child_run(int wfd, const char *const *policies, SeccompMode mode,
                                 ChildAction action) {
        const struct rlimit no_core = { 0, 0 };
        Report rep = { .r = 0, .line = 0 };

        self_pid = getpid();
        report_fd = wfd;
        /* A killed child must not dump core. */
        (void) setrlimit(RLIMIT_CORE, &no_core);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_exit(125);
        for (; *policies && rep.r >= 0; policies++) {
                if (*policies == FORK_HERE) {
                        pid_t pid = fork();
                        int status = 0;

                        if (pid < 0)
                                child_exit(123);
                        if (pid == 0) {
                                self_pid = getpid();
                                continue;
                        }
                        if (waitpid(pid, &status, 0) != pid ||
                            write(wfd, &status, sizeof status) != (ssize_t) sizeof status)
                                child_exit(122);
                        child_exit(0);
                }

                char *text = malloc(strlen(*policies) + sizeof SANITIZER_EXTRA);

                if (!text)
                        child_exit(124);
                strcpy(stpcpy(text, *policies), SANITIZER_EXTRA);
                rep.r = seccomp_policy_load(text, mode, &rep.line);
                free(text);
        }
        if (write(wfd, &rep, sizeof rep) != (ssize_t) sizeof rep)
                child_exit(126);
        if (rep.r < 0)
                child_exit(EXIT_LOAD_FAILED);
        child_exit(action ? action() : 0);
}

static Outcome run_policies(const char *const *policies, SeccompMode mode,
                            ChildAction action) {
        Outcome o = { .reported = false };
        struct {
                Report report;
                int status;
        } msg;
        bool forks = false;
        size_t n;
        int p[2], status;
        pid_t pid;

        for (const char *const *q = policies; *q; q++)
                forks = forks || *q == FORK_HERE;
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                child_run(p[1], policies, mode, action);
        }
        close(p[1]);
        read_all(p[0], &msg, forks ? sizeof msg : sizeof msg.report, &n);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!forks) {
                o.reported = n == sizeof msg.report;
                o.report = msg.report;
                o.status = status;
                return o;
        }
        /* The process that forked passed on how the last one ended, after its report if
         * it got as far as one. */
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_true(n == sizeof msg || n == sizeof msg.status);
        o.reported = n == sizeof msg;
        if (o.reported) {
                o.report = msg.report;
                o.status = msg.status;
        } else
                memcpy(&o.status, &msg, sizeof o.status);
        return o;
}

static Outcome run_policy(const char *policy, SeccompMode mode, ChildAction action) {
        return run_policies((const char *const[]) { policy, NULL }, mode, action);
}

static void assert_exited(const Outcome *o, int code) {
        assert_true(WIFEXITED(o->status));
        assert_int_equal(WEXITSTATUS(o->status), code);
}

static void assert_killed_by_sigsys(const Outcome *o) {
        assert_true(WIFSIGNALED(o->status));
        assert_int_equal(WTERMSIG(o->status), SIGSYS);
}

/* The policy is rejected at `line` with `r`, and no filter was loaded. */
static void assert_parse_error(const char *policy, int r, unsigned line) {
        Outcome o = run_policy(policy, SECCOMP_MODE_ENFORCE, NULL);

        assert_true(o.reported);
        assert_int_equal(o.report.r, r);
        assert_int_equal(o.report.line, line);
        assert_exited(&o, EXIT_LOAD_FAILED);
}

/* The policy loads, and the child exits normally afterwards. */
static void assert_loads(const char *policy) {
        Outcome o = run_policy(policy, SECCOMP_MODE_ENFORCE, NULL);

        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_exited(&o, 0);
}

/* Child actions, run under the loaded filter: raw syscalls only. */

static int do_getppid(void) {
        return syscall(SYS_getppid) > 0 ? 0 : 1;
}

static int do_socket_unix(void) {
        return syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
}

static int do_socket_inet(void) {
        return syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1;
}

static int do_tgkill_self(void) {
        return syscall(SYS_tgkill, self_pid, self_pid, 0) == 0 ? 0 : 1;
}

/* Signal 0 to the test process: allowed, it would only check that the signal could go. */
static int do_tgkill_parent(void) {
        return syscall(SYS_tgkill, test_pid, test_pid, 0) == 0 ? 0 : 1;
}

#ifndef PP_SANITIZE
static int do_kill_parent(void) {
        return syscall(SYS_kill, test_pid, 0) == 0 ? 0 : 1;
}
#endif

static int do_tkill_parent(void) {
        return syscall(SYS_tkill, test_pid, 0) == 0 ? 0 : 1;
}

static int do_sigqueue_parent(void) {
        siginfo_t info = { .si_code = SI_QUEUE };

        return syscall(SYS_rt_sigqueueinfo, test_pid, 0, &info) == 0 ? 0 : 1;
}

/* The kernel's SIGIO path: F_SETOWN (then F_SETSIG, O_ASYNC) names who gets the signal. */
static int do_setown_parent(void) {
        return syscall(SYS_fcntl, report_fd, F_SETOWN, test_pid) == 0 ? 0 : 1;
}

static int do_setown_ex_parent(void) {
        struct f_owner_ex owner = { .type = F_OWNER_PID, .pid = test_pid };

        return syscall(SYS_fcntl, report_fd, F_SETOWN_EX, &owner) == 0 ? 0 : 1;
}

static int do_setsig(void) {
        return syscall(SYS_fcntl, report_fd, F_SETSIG, SIGKILL) == 0 ? 0 : 1;
}

/* What every process still does with fcntl: flags, and a duplicate above stdio. */
static int do_fcntl_flags(void) {
        long fl = syscall(SYS_fcntl, report_fd, F_GETFL);

        if (fl < 0 || syscall(SYS_fcntl, report_fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
            syscall(SYS_fcntl, report_fd, F_GETFD) < 0 ||
            syscall(SYS_fcntl, report_fd, F_SETFD, FD_CLOEXEC) < 0 ||
            syscall(SYS_fcntl, report_fd, F_DUPFD_CLOEXEC, 3) < 0)
                return 1;
        return 0;
}

/* Modes */

static void test_mode_from_string(void **state) {
        (void) state;
        assert_int_equal(seccomp_mode_from_string("enforce"), SECCOMP_MODE_ENFORCE);
        assert_int_equal(seccomp_mode_from_string("log"), SECCOMP_MODE_LOG);
}

static void test_mode_from_string_invalid(void **state) {
        (void) state;
        assert_int_equal(seccomp_mode_from_string("Enforce"), _SECCOMP_MODE_INVALID);
        assert_int_equal(seccomp_mode_from_string("enforce "), _SECCOMP_MODE_INVALID);
        assert_int_equal(seccomp_mode_from_string("kill"), _SECCOMP_MODE_INVALID);
        assert_int_equal(seccomp_mode_from_string(""), _SECCOMP_MODE_INVALID);
        assert_int_equal(seccomp_mode_from_string(NULL), _SECCOMP_MODE_INVALID);
}

static void test_mode_to_string(void **state) {
        (void) state;
        assert_string_equal(seccomp_mode_to_string(SECCOMP_MODE_ENFORCE), "enforce");
        assert_string_equal(seccomp_mode_to_string(SECCOMP_MODE_LOG), "log");
        assert_null(seccomp_mode_to_string(_SECCOMP_MODE_MAX));
        assert_null(seccomp_mode_to_string(_SECCOMP_MODE_INVALID));
}

static void test_mode_round_trip(void **state) {
        (void) state;
        for (int m = 0; m < _SECCOMP_MODE_MAX; m++)
                assert_int_equal(seccomp_mode_from_string(seccomp_mode_to_string((SeccompMode) m)),
                                 m);
}

static void test_load_invalid_mode(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE, (SeccompMode) _SECCOMP_MODE_MAX, NULL);
        assert_true(o.reported);
        assert_int_equal(o.report.r, -EINVAL);
        assert_exited(&o, EXIT_LOAD_FAILED);
}

/* Parse errors, one per test */

static void test_unknown_syscall(void **state) {
        (void) state;
        assert_parse_error(BASE "notasyscall\n", -EINVAL, 3);
}

static void test_unknown_syscall_first_line(void **state) {
        (void) state;
        assert_parse_error("notasyscall\n" BASE, -EINVAL, 1);
}

static void test_unknown_syscall_no_final_newline(void **state) {
        (void) state;
        assert_parse_error(BASE "getppid\nnotasyscall", -EINVAL, 4);
}

static void test_unknown_syscall_after_comments(void **state) {
        (void) state;
        /* Comment and blank lines count. */
        assert_parse_error("# header\n\n" BASE "   \t\n# getppid\nnotasyscall # why\n", -EINVAL,
                           7);
}

static void test_unknown_syscall_with_args(void **state) {
        (void) state;
        assert_parse_error(BASE "notasyscall arg0 1\n", -EINVAL, 3);
}

static void test_arg_index_9(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg9 1\n", -EINVAL, 3);
}

static void test_arg_index_6(void **state) {
        (void) state;
        /* Syscalls have six arguments, arg0 to arg5. */
        assert_parse_error(BASE "socket arg6 1\n", -EINVAL, 3);
}

static void test_arg_index_two_digits(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg01 1\n", -EINVAL, 3);
}

static void test_arg_index_missing(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg 1\n", -EINVAL, 3);
}

static void test_arg_keyword_wrong(void **state) {
        (void) state;
        assert_parse_error(BASE "socket AF_UNIX\n", -EINVAL, 3);
}

static void test_arg_no_values(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0\n", -EINVAL, 3);
}

static void test_arg_no_values_comment(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 # AF_UNIX\n", -EINVAL, 3);
}

static void test_arg_unknown_symbol(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 NOTASYMBOL\n", -EINVAL, 3);
}

static void test_arg_unknown_symbol_after_good(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 AF_UNIX AF_BOGUS\n", -EINVAL, 3);
}

static void test_arg_number_garbage(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 12abc\n", -EINVAL, 3);
}

static void test_arg_number_overflow(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 0x10000000000000000\n", -EINVAL, 3);
}

static void test_arg_too_many_values(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
                           -EINVAL, 3);
}

static void test_arg_symbol_case(void **state) {
        (void) state;
        assert_parse_error(BASE "socket arg0 af_unix\n", -EINVAL, 3);
}

/* Policies that load */

static void test_loads_minimal(void **state) {
        (void) state;
        assert_loads(BASE);
}

static void test_loads_comments_and_blanks(void **state) {
        (void) state;
        assert_loads("# a policy\n\n  write   # log_write()\n\texit_group\t\n\n");
}

static void test_loads_optional_unknown(void **state) {
        (void) state;
        assert_loads(BASE "?unknownsyscall\n");
}

static void test_loads_optional_known(void **state) {
        (void) state;
        assert_loads(BASE "?getppid\n");
}

static void test_loads_sixteen_values(void **state) {
        (void) state;
        assert_loads(BASE "socket arg0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
}

static void test_loads_symbols(void **state) {
        (void) state;
        assert_loads(BASE "socket arg0 AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET\n"
                          "prctl arg0 PR_SET_NAME PR_GET_NAME PR_SET_DUMPABLE PR_GET_DUMPABLE "
                          "PR_SET_PDEATHSIG PR_SET_PTRACER PR_CAPBSET_READ PR_CAP_AMBIENT\n");
}

static void test_loads_numbers(void **state) {
        (void) state;
        assert_loads(BASE "socket arg0 1 0x2 010\nioctl arg1 0x8913\n");
}

/* What a loaded policy does */

static void test_enforce_kills_unlisted(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE, SECCOMP_MODE_ENFORCE, do_getppid);
        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_killed_by_sigsys(&o);
}

static void test_enforce_allows_listed(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "getppid\n", SECCOMP_MODE_ENFORCE, do_getppid);
        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_exited(&o, 0);
}

static void test_enforce_optional_allows(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "?getppid\n", SECCOMP_MODE_ENFORCE, do_getppid);
        assert_exited(&o, 0);
}

static void test_enforce_arg_listed_value(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "socket arg0 AF_UNIX\n", SECCOMP_MODE_ENFORCE, do_socket_unix);
        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_exited(&o, 0);
}

static void test_enforce_arg_numeric_value(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "socket arg0 0x1\n", SECCOMP_MODE_ENFORCE, do_socket_unix);
        assert_exited(&o, 0);
}

static void test_enforce_arg_unlisted_value(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "socket arg0 AF_UNIX\n", SECCOMP_MODE_ENFORCE, do_socket_inet);
        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_killed_by_sigsys(&o);
}

static void test_enforce_arg_second_value(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "socket arg0 AF_NETLINK AF_INET\n", SECCOMP_MODE_ENFORCE,
                       do_socket_inet);
        assert_exited(&o, 0);
}

/* `self`: the process that loads the policy, and no other. */
static void test_enforce_self_value(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE "tgkill arg0 self\n", SECCOMP_MODE_ENFORCE, do_tgkill_self);
        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_exited(&o, 0);
        o = run_policy(BASE "tgkill arg0 self\n", SECCOMP_MODE_ENFORCE, do_tgkill_parent);
        assert_killed_by_sigsys(&o);
}

extern const char seccomp_policy_patchpaneld[], seccomp_policy_patchpanel_helper[],
        seccomp_policy_patchpanel_launcher[], seccomp_policy_pp_testchild[],
        seccomp_policy_adb_proxy[], seccomp_policy_mcastd[], seccomp_policy_ndproxyd[],
        seccomp_policy_ndproxyd_priv[];

/* The policies of processes that run as the manager's user, alone and, for the launcher's
 * children, under the launcher's policy loaded in their parent as it is in real life. */
#define LAUNCHED(policy) \
        (const char *const[]) { seccomp_policy_patchpanel_launcher, FORK_HERE, policy, NULL }
#define ALONE(policy) (const char *const[]) { policy, NULL }

/* The forwarders, which parse packets, launched and (mcastd, ndproxyd) standalone. */
static const char *const *const forwarder_policies[] = {
        LAUNCHED(seccomp_policy_pp_testchild),
        LAUNCHED(seccomp_policy_adb_proxy),
        LAUNCHED(seccomp_policy_mcastd),
        LAUNCHED(seccomp_policy_ndproxyd),
        ALONE(seccomp_policy_mcastd),
        ALONE(seccomp_policy_ndproxyd),
};

static void assert_tgkill_only_self(const char *const *policies) {
        Outcome o = run_policies(policies, SECCOMP_MODE_ENFORCE, do_tgkill_self);

        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_exited(&o, 0);
        o = run_policies(policies, SECCOMP_MODE_ENFORCE, do_tgkill_parent);
        assert_killed_by_sigsys(&o);
}

/* No process of the suite may signal another with tgkill: a forwarder that parses packets
 * runs as the manager's user, and the kernel alone would let it kill the manager. */
static void test_shipped_policies_signal_only_themselves(void **state) {
        (void) state;
        assert_tgkill_only_self(ALONE(seccomp_policy_patchpaneld));
        assert_tgkill_only_self(ALONE(seccomp_policy_patchpanel_helper));
        assert_tgkill_only_self(ALONE(seccomp_policy_ndproxyd_priv));
        for (size_t i = 0; i < ELEMENTSOF(forwarder_policies); i++)
                assert_tgkill_only_self(forwarder_policies[i]);
}

/* A forwarder has no other way to signal a process either: not kill, tkill or a queued
 * signal, and not the kernel's SIGIO to an fd's owner; the fcntl it needs still works. */
static void test_forwarders_signal_no_other_process(void **state) {
        const ChildAction denied[] = {
#ifndef PP_SANITIZE
                /* (sanitizer builds' policies allow kill: seccomp/sanitizers.policy) */
                do_kill_parent,
#endif
                do_tkill_parent,  do_sigqueue_parent,  do_setown_parent,
                do_setown_ex_parent, do_setsig,
        };
        Outcome o;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(forwarder_policies); i++) {
                for (size_t j = 0; j < ELEMENTSOF(denied); j++) {
                        o = run_policies(forwarder_policies[i], SECCOMP_MODE_ENFORCE, denied[j]);
                        assert_true(o.reported);
                        assert_int_equal(o.report.r, 0);
                        assert_killed_by_sigsys(&o);
                }
                o = run_policies(forwarder_policies[i], SECCOMP_MODE_ENFORCE, do_fcntl_flags);
                assert_exited(&o, 0);
        }
}

static void test_log_does_not_kill(void **state) {
        Outcome o;

        (void) state;
        o = run_policy(BASE, SECCOMP_MODE_LOG, do_getppid);
        assert_true(o.reported);
        assert_int_equal(o.report.r, 0);
        assert_exited(&o, 0);
}

/* Whether this kernel can load seccomp filters at all, tried in a child. */
static bool seccomp_filters_supported(void) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return false;
        if (pid == 0) {
                /* A NULL program: EFAULT if filters are supported, EINVAL if not. */
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        child_exit(1);
                if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno == EFAULT)
                        child_exit(0);
                child_exit(1);
        }
        if (waitpid(pid, &status, 0) != pid)
                return false;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_mode_from_string),
                cmocka_unit_test(test_mode_from_string_invalid),
                cmocka_unit_test(test_mode_to_string),
                cmocka_unit_test(test_mode_round_trip),
                cmocka_unit_test(test_load_invalid_mode),
                cmocka_unit_test(test_unknown_syscall),
                cmocka_unit_test(test_unknown_syscall_first_line),
                cmocka_unit_test(test_unknown_syscall_no_final_newline),
                cmocka_unit_test(test_unknown_syscall_after_comments),
                cmocka_unit_test(test_unknown_syscall_with_args),
                cmocka_unit_test(test_arg_index_9),
                cmocka_unit_test(test_arg_index_6),
                cmocka_unit_test(test_arg_index_two_digits),
                cmocka_unit_test(test_arg_index_missing),
                cmocka_unit_test(test_arg_keyword_wrong),
                cmocka_unit_test(test_arg_no_values),
                cmocka_unit_test(test_arg_no_values_comment),
                cmocka_unit_test(test_arg_unknown_symbol),
                cmocka_unit_test(test_arg_unknown_symbol_after_good),
                cmocka_unit_test(test_arg_number_garbage),
                cmocka_unit_test(test_arg_number_overflow),
                cmocka_unit_test(test_arg_too_many_values),
                cmocka_unit_test(test_arg_symbol_case),
                cmocka_unit_test(test_loads_minimal),
                cmocka_unit_test(test_loads_comments_and_blanks),
                cmocka_unit_test(test_loads_optional_unknown),
                cmocka_unit_test(test_loads_optional_known),
                cmocka_unit_test(test_loads_sixteen_values),
                cmocka_unit_test(test_loads_symbols),
                cmocka_unit_test(test_loads_numbers),
                cmocka_unit_test(test_enforce_kills_unlisted),
                cmocka_unit_test(test_enforce_allows_listed),
                cmocka_unit_test(test_enforce_optional_allows),
                cmocka_unit_test(test_enforce_arg_listed_value),
                cmocka_unit_test(test_enforce_arg_numeric_value),
                cmocka_unit_test(test_enforce_arg_unlisted_value),
                cmocka_unit_test(test_enforce_arg_second_value),
                cmocka_unit_test(test_enforce_self_value),
                cmocka_unit_test(test_shipped_policies_signal_only_themselves),
                cmocka_unit_test(test_forwarders_signal_no_other_process),
                cmocka_unit_test(test_log_does_not_kill),
        };

        if (!seccomp_filters_supported()) {
                fprintf(stderr, "seccomp filters are not supported here, skipping\n");
                return 77;
        }
        test_pid = getpid();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
