/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * patchpanel-launcher: the one process that can start a process after patchpaneld has
 * locked itself down (the manager's seccomp policy has no fork or execve, and must not: a
 * filter is inherited across exec, so a locked-down manager could not give a child a
 * policy of its own). patchpaneld fork+execs it at start, before the lockdown, as its own
 * unprivileged user with CAP_NET_RAW as its only capability.
 *
 * Why a launcher rather than another way: it executes nothing but the binaries of a table
 * compiled into it, opened once at start (a later request cannot name a path or an
 * argument, and replacing a file on disk changes nothing); it holds CAP_NET_RAW only to
 * hand it on, as an ambient capability, to the kinds that open raw sockets, and never has it
 * effective itself; its own seccomp policy is the union of what its children need (a filter
 * is inherited across exec, so each child runs under both the launcher's and its own).
 *
 * Theory of operation:
 *   1. arguments and the socket to the manager (--ipc-fd); the manager is our parent, and
 *      a child's control socket must lead to it (launcher_check_control_fd());
 *   2. open every binary of the table (O_PATH), a session of our own, not dumpable;
 *   3. drop CAP_NET_RAW from the effective set (permitted, inheritable and ambient keep it
 *      for the children), no_new_privs, the seccomp policy, then the first request;
 *   4. per Spawn: check, fork, in the child a fresh session, the control socket as fd 3 and
 *      nothing else inherited, the parent-death signal, the kind's ambient capability (or
 *      none), then execveat() the opened binary; answer with the child's pidfd; report
 *      its exit as an event when it is reaped;
 *   5. when the manager's socket closes (it stopped or died), end every child (SIGTERM,
 *      SIGKILL after a grace period) and exit once all are reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "channel.h"
#include "ipc.h"
#include "launcher.h"
#include "list.h"
#include "log.h"
#include "options.h"
#include "pidfd-util.h"
#include "privs.h"
#include "reaper.h"
#include "seccomp-policy.h"

#ifndef PP_LAUNCHER_INSTALL_PATH
#define PP_LAUNCHER_INSTALL_PATH "/usr/libexec/patchpanel/patchpanel-launcher"
#endif

extern const char seccomp_policy_patchpanel_launcher[];

#define STOP_GRACE_USEC (3 * 1000 * 1000)

typedef Patchpanel__Ipc__LauncherRequest LauncherRequest;
typedef Patchpanel__Ipc__LauncherResponse LauncherResponse;

typedef struct Launcher Launcher;

typedef struct Spawned Spawned;
struct Spawned {
        Launcher *launcher;
        pid_t pid;
        Reaper *reaper;         /* holds the child's pidfd */
        LIST_FIELDS(Spawned, spawned);
};

struct Launcher {
        sd_event *event;
        Channel *manager;
        pid_t manager_pid;
        int binaries[16];       /* O_PATH fds, in the order of launcher_kinds() */
        const char *log_level;
        SeccompMode seccomp;
        Spawned *children;
        bool stopping;
};

static Spawned *spawned_free(Spawned *s) {
        if (!s)
                return NULL;
        LIST_REMOVE(spawned, s->launcher->children, s);
        reaper_free(s->reaper);
        free(s);
        return NULL;
}

static void launcher_maybe_exit(Launcher *l) {
        if (l->stopping && !l->children)
                (void) sd_event_exit(l->event, EXIT_SUCCESS);
}

static void on_child_exit(Reaper *r, const siginfo_t *si, void *userdata) {
        Spawned *s = userdata;
        Launcher *l = s->launcher;
        Patchpanel__Ipc__ChildExited exited = PATCHPANEL__IPC__CHILD_EXITED__INIT;
        LauncherResponse ev = PATCHPANEL__IPC__LAUNCHER_RESPONSE__INIT;

        (void) r;
        log_debug("Child %d ended (code %d, status %d)", (int) s->pid, si->si_code, si->si_status);
        exited.pid = s->pid;
        exited.code = si->si_code;
        exited.status = si->si_status;
        ev.result_case = PATCHPANEL__IPC__LAUNCHER_RESPONSE__RESULT_EXITED;
        ev.exited = &exited;
        if (channel_is_open(l->manager))
                (void) channel_send(l->manager, &ev.base, NULL, 0);
        spawned_free(s);
        launcher_maybe_exit(l);
}

/* In the forked child: become the kind's process or die trying. Nothing here returns. */
_noreturn_ static void child_exec(Launcher *l, const LauncherKind *k, int binary, int control,
                                  pid_t launcher) {
        char level_arg[64], seccomp_arg[32];
        char *argv[] = { (char *) k->name, (char *) "--control-fd=3", level_arg, seccomp_arg,
                         NULL };
        extern char **environ;
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        if (setsid() < 0)
                _exit(127);
        /* Gone with the launcher, and the launcher goes with the manager. (Checked against
         * the launcher's pid, not 1: under a subreaper an orphan's parent is not init.) */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != launcher)
                _exit(127);
        /* The control socket becomes fd 3; every other fd but 0-2 closes at exec, the
         * binary's O_PATH fd included (execveat() still runs it). */
        if (binary == 3) {
                binary = fcntl(binary, F_DUPFD_CLOEXEC, 4);
                if (binary < 0)
                        _exit(127);
        }
        if (control == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(control, 3) < 0)
                _exit(127);
        if (syscall(SYS_close_range, 4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                _exit(127);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                _exit(127);
        if (k->net_raw && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0) < 0)
                _exit(127);
        snprintf(level_arg, sizeof level_arg, "--log-level=%s", l->log_level);
        snprintf(seccomp_arg, sizeof seccomp_arg, "--seccomp=%s", seccomp_mode_to_string(l->seccomp));
        syscall(SYS_execveat, binary, "", argv, environ, AT_EMPTY_PATH);
        fprintf(stderr, "patchpanel-launcher: cannot execute %s: %s\n", k->name, strerror(errno));
        _exit(127);
}

static int launcher_spawn(Launcher *l, const Patchpanel__Ipc__Spawn *op, int control,
                          pid_t *ret_pid, int *ret_pidfd, ErrBuf *err) {
        const LauncherKind *k = launcher_kind_find(op->kind);
        size_t n_kinds, index;
        Spawned *s;
        pid_t pid, self;
        int pidfd, r;

        if (!k)
                return errbuf_set(err, -EINVAL, "unknown kind %d", (int) op->kind);
        index = (size_t) (k - launcher_kinds(&n_kinds));
        if (index >= ELEMENTSOF(l->binaries) || l->binaries[index] < 0)
                return errbuf_set(err, -ENOENT, "%s is not installed", k->name);
        r = launcher_check_control_fd(control, l->manager_pid, getuid(), err);
        if (r < 0)
                return r;

        self = getpid();
        pid = fork();
        if (pid < 0)
                return errbuf_set(err, -errno, "cannot fork: %m");
        if (pid == 0)
                child_exec(l, k, l->binaries[index], control, self);

        /* Until it is reaped below, the pid cannot be reused: the pidfd is this child's. */
        pidfd = pidfd_open_pid(pid);
        if (pidfd < 0) {
                r = pidfd;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return errbuf_set(err, r, "cannot open a pidfd of %s: %s", k->name, strerror(-r));
        }
        s = calloc(1, sizeof *s);
        if (!s) {
                (void) pidfd_signal(pidfd, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                safe_close(pidfd);
                return errbuf_set(err, -ENOMEM, "out of memory");
        }
        *s = (Spawned) { .launcher = l, .pid = pid };
        r = reaper_new(l->event, pidfd, on_child_exit, s, &s->reaper);
        if (r < 0) {
                (void) pidfd_signal(pidfd, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                safe_close(pidfd);
                free(s);
                return errbuf_set(err, r, "cannot watch %s: %s", k->name, strerror(-r));
        }
        LIST_PREPEND(spawned, l->children, s);
        log_info("Started %s, pid %d", k->name, (int) pid);
        *ret_pid = pid;
        *ret_pidfd = fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
        return *ret_pidfd < 0 ? errbuf_set(err, -errno, "cannot pass the pidfd on: %m") : 0;
}

/* Receive, check, act, answer: one request of the manager. */
static void on_request(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                       void *userdata) {
        const LauncherRequest *req = (const LauncherRequest *) msg;
        LauncherResponse resp = PATCHPANEL__IPC__LAUNCHER_RESPONSE__INIT;
        Patchpanel__Ipc__SpawnResult result = PATCHPANEL__IPC__SPAWN_RESULT__INIT;
        Launcher *l = userdata;
        ErrBuf err = {};
        int pidfd = -EBADF, r;
        pid_t pid = 0;

        /* A request without an id, with the wrong fds, or of an unknown case: the manager
         * broke the protocol, and is buggy or compromised. */
        if (req->id == 0 || req->op_case != PATCHPANEL__IPC__LAUNCHER_REQUEST__OP_SPAWN ||
            n_fds != 1)
                log_fatal("Bad request from the manager (id %llu, case %d, %zu fds)",
                          (unsigned long long) req->id, (int) req->op_case, n_fds);

        r = launcher_spawn(l, req->spawn, fds[0], &pid, &pidfd, &err);
        /* Our copy of the child's control socket goes now in every case: the child has its
         * own, and the manager must see the socket close when the child ends. */
        fds[0] = safe_close(fds[0]);
        resp.id = req->id;
        resp.status = r < 0 ? r : 0;
        if (r < 0) {
                log_warning("Refused to start kind %d: %s", (int) req->spawn->kind, err.msg);
                resp.message = err.msg;
                r = channel_send(c, &resp.base, NULL, 0);
        } else {
                result.pid = pid;
                resp.result_case = PATCHPANEL__IPC__LAUNCHER_RESPONSE__RESULT_SPAWN;
                resp.spawn = &result;
                r = channel_send(c, &resp.base, &pidfd, 1);
        }
        if (r < 0 && r != -ENOTCONN)
                log_error_errno(r, "Cannot answer the manager: %m");
}

static int on_grace_over(sd_event_source *s, uint64_t usec, void *userdata) {
        Launcher *l = userdata;

        (void) s;
        (void) usec;
        LIST_FOREACH(spawned, c, l->children) {
                log_warning("Child %d did not end, killing it", (int) c->pid);
                (void) pidfd_signal(reaper_pidfd(c->reaper), SIGKILL);
        }
        return 0;
}

static void launcher_stop(Launcher *l) {
        if (l->stopping)
                return;
        l->stopping = true;
        LIST_FOREACH(spawned, c, l->children)
                (void) pidfd_signal(reaper_pidfd(c->reaper), SIGTERM);
        if (l->children &&
            sd_event_add_time_relative(l->event, NULL, CLOCK_MONOTONIC, STOP_GRACE_USEC, 0,
                                       on_grace_over, l) < 0)
                on_grace_over(NULL, 0, l);
        launcher_maybe_exit(l);
}

static void on_manager_gone(Channel *c, const char *why, void *userdata) {
        (void) c;
        log_debug("The manager's socket is gone (%s): ending every child", why);
        launcher_stop(userdata);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) s;
        log_debug("Received signal %u, ending every child", si->ssi_signo);
        launcher_stop(userdata);
        return 0;
}

/* Every binary of the table, opened now: the installed ones when we are installed, else
 * those beside our own binary (a build tree), from @bin_dir when the manager handed us that
 * directory (our user may not reach a build tree by path: a checkout under /root). A kind
 * whose binary is missing cannot start. */
static void launcher_open_binaries(Launcher *l, int bin_dir) {
        char self[4096], path[4096 + 64];
        size_t n;
        const LauncherKind *k = launcher_kinds(&n);
        ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
        bool installed = false;
        char *slash;

        if (len > 0) {
                self[len] = '\0';
                installed = strcmp(self, PP_LAUNCHER_INSTALL_PATH) == 0;
        } else
                strcpy(self, PP_LAUNCHER_INSTALL_PATH);
        slash = strrchr(self, '/');
        if (slash)
                *slash = '\0';
        for (size_t i = 0; i < n && i < ELEMENTSOF(l->binaries); i++) {
                snprintf(path, sizeof path, "%s/%s", installed ? k[i].install_dir : self, k[i].name);
                if (!installed && bin_dir >= 0)
                        l->binaries[i] = openat(bin_dir, k[i].name, O_PATH | O_CLOEXEC);
                else
                        l->binaries[i] = open(path, O_PATH | O_CLOEXEC);
                if (l->binaries[i] < 0)
                        log_debug("%s is not there: %s cannot be started", path, k[i].name);
        }
}

/* Stage 3: CAP_NET_RAW kept only to hand on, no_new_privs, the seccomp policy. */
static void launcher_lock_down(const Launcher *l) {
        unsigned line = 0;
        int r;

        r = privs_keep_only_inheritable((const int[]) { CAP_NET_RAW }, 1);
        if (r < 0)
                log_fatal("Failed to drop the effective capabilities: %s", strerror(-r));
#ifndef PP_SANITIZE
        /* Nobody of our uid (a forwarder) may look into us or trace us. */
        (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
        if (privs_set_no_new_privs() < 0)
                log_fatal("Failed to set no_new_privs: %m");
        r = seccomp_policy_load(seccomp_policy_patchpanel_launcher, l->seccomp, &line);
        if (r < 0)
                log_fatal("Failed to load the seccomp policy (line %u): %s", line, strerror(-r));
        log_debug("Ready, seccomp %s", seccomp_mode_to_string(l->seccomp));
}

int main(int argc, char **argv) {
        Launcher l = { .seccomp = SECCOMP_MODE_ENFORCE, .log_level = "info" };
        int ipc_fd = -EBADF, bin_dir = -EBADF, first, r;
        sigset_t mask;
        const Option options[] = {
                { "ipc-fd", 0, "FD", "socket to the manager", option_parse_fd, &ipc_fd },
                { "bin-dir-fd", 0, "FD", "the directory of the binaries beside us, when not\n"
                  "installed", option_parse_fd, &bin_dir },
                OPTION_LOG_LEVEL(&l.log_level),
                OPTION_SECCOMP(&l.seccomp),
        };
        const OptionsSpec spec = {
                .usage = "patchpanel-launcher --ipc-fd=FD [OPTIONS]",
                .description = "Starts the forwarders of patchpaneld; patchpaneld starts it.",
                .options = options,
                .n_options = ELEMENTSOF(options),
        };
        const ChannelConfig channel = {
                .send = &patchpanel__ipc__launcher_response__descriptor,
                .recv = &patchpanel__ipc__launcher_request__descriptor,
                .max_fds = 1,
                .on_message = on_request,
                .on_dead = on_manager_gone,
                .userdata = &l,
        };

        log_setup("patchpanel-launcher");
        if (options_parse(&spec, argc, argv, &first) < 0 || first != argc || ipc_fd < 0) {
                if (ipc_fd < 0)
                        options_usage(&spec, stderr);
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < ELEMENTSOF(l.binaries); i++)
                l.binaries[i] = -EBADF;
        l.manager_pid = getppid();
        launcher_open_binaries(&l, bin_dir);
        safe_close(bin_dir);
        if (setsid() < 0)
                log_fatal("Failed to start a session: %m");
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = sd_event_default(&l.event);
        if (r < 0)
                log_fatal("Failed to get an event loop: %s", strerror(-r));
        for (size_t i = 0; i < 3; i++) {
                static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
                r = sd_event_add_signal(l.event, NULL, sigs[i], on_signal, &l);
                if (r < 0)
                        log_fatal("Failed to watch signals: %s", strerror(-r));
        }
        r = channel_new(l.event, ipc_fd, &channel, &l.manager);
        if (r < 0)
                log_fatal("Failed to watch the manager's socket: %s", strerror(-r));

        launcher_lock_down(&l);

        r = sd_event_loop(l.event);
        while (l.children)
                spawned_free(l.children);
        channel_free(l.manager);
        for (size_t i = 0; i < ELEMENTSOF(l.binaries); i++)
                safe_close(l.binaries[i]);
        sd_event_unref(l.event);
        return r < 0 ? EXIT_FAILURE : r;
}
