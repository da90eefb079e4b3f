/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include "child.h"
#include "ipc.h"
#include "log.h"
#include "pidfd-util.h"
#include "reaper.h"
#include "time-util.h"

const ChildBackoff child_backoff_default = {
        .first_usec = 0,
        .base_usec = 1000 * 1000,
        .max_usec = 30 * 1000 * 1000,
        .healthy_usec = 60 * 1000 * 1000,
        .max_failures = 8,
};

struct Child {
        sd_event *event;
        ChildConfig config;
        ChildState state;
        Channel *channel;
        pid_t pid;
        pid_t last_pid;          /* of the latest process, even after it ended */
        int pidfd;               /* the reaper's, when there is one */
        Reaper *reaper;          /* our own child: reaps it */
        sd_event_source *exit_source; /* another's child: its pidfd turning readable */
        sd_event_source *timer;  /* BACKOFF: the restart; RUNNING: the health mark */
        sd_event_source *stop_timer;
        uint64_t restart_at;
        unsigned starts;
        unsigned failures;
        bool stopping;
        int *fake_peer;          /* tests: the child's end goes here, to no process */
        void (*stopped)(void *userdata);
        void *stopped_userdata;
        char last_end[128];
};

static const char *const state_names[_CHILD_STATE_MAX] = {
        [CHILD_STOPPED] = "stopped",
        [CHILD_STARTING] = "starting",
        [CHILD_RUNNING] = "running",
        [CHILD_BACKOFF] = "backoff",
        [CHILD_FAILED] = "failed",
};

const char *child_state_to_string(ChildState s) {
        if (s < 0 || s >= _CHILD_STATE_MAX)
                return NULL;
        return state_names[s];
}

static void child_gone(Child *c, const char *why);

/* Forget the process: its sources and its pidfd (killing it first if it is still there,
 * since a child whose socket is closed has nothing left to do). */
static void child_release_process(Child *c, bool kill_it) {
        if (kill_it && c->pidfd >= 0 && c->pid > 0)
                (void) pidfd_signal(c->pidfd, SIGKILL);
        c->exit_source = sd_event_source_disable_unref(c->exit_source);
        if (c->reaper) {
                c->reaper = reaper_free(c->reaper);
                c->pidfd = -EBADF;
        } else
                c->pidfd = safe_close(c->pidfd);
        c->pid = 0;
}

static void child_finish_stop(Child *c) {
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        child_release_process(c, false);
        c->state = CHILD_STOPPED;
        if (c->stopped)
                c->stopped(c->stopped_userdata);
}

static void child_on_reaped(Reaper *r, const siginfo_t *si, void *userdata) {
        Child *c = userdata;
        char how[96];

        (void) r;
        exit_to_string(si->si_code, si->si_status, how, sizeof how);
        snprintf(c->last_end, sizeof c->last_end, "pid %d %s", (int) si->si_pid, how);
        c->pid = 0; /* exited: nothing left to signal */
        if (c->stopping)
                child_finish_stop(c);
        else
                child_gone(c, c->last_end);
}

static int child_on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Child *c = userdata;

        (void) s;
        (void) fd;
        (void) revents;
        /* Someone else reaps it; child_note_exit() may still say how it ended. */
        if (!c->last_end[0] || c->stopping)
                snprintf(c->last_end, sizeof c->last_end, "pid %d ended", (int) c->pid);
        if (c->stopping)
                return child_finish_stop(c), 0;
        child_gone(c, "its process ended");
        return 0;
}

static void child_on_channel_dead(Channel *ch, const char *why, void *userdata) {
        Child *c = userdata;

        (void) ch;
        child_gone(c, why);
}

static void child_on_message(Channel *ch, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                             void *userdata) {
        Child *c = userdata;

        (void) ch;
        if (c->config.on_event)
                c->config.on_event(c, msg, fds, n_fds, c->config.userdata);
}

static int child_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Child *c = userdata;

        (void) s;
        (void) usec;
        c->timer = sd_event_source_disable_unref(c->timer);
        if (c->state == CHILD_RUNNING) {
                /* A minute of good health: the next failure starts a fresh count. */
                if (c->failures > 0)
                        log_debug("%s has run well for a while, forgetting %u failures",
                                  c->config.name, c->failures);
                c->failures = 0;
        } else if (c->state == CHILD_BACKOFF)
                (void) child_start(c);
        return 0;
}

static int child_arm_timer(Child *c, uint64_t delay_usec) {
        c->timer = sd_event_source_disable_unref(c->timer);
        return sd_event_add_time_relative(c->event, &c->timer, CLOCK_MONOTONIC, delay_usec, 0,
                                          child_on_timer, c);
}

/* The delay before restart number @failures in a row (1-based). */
static uint64_t child_backoff_delay(const ChildBackoff *b, unsigned failures) {
        uint64_t d;

        if (failures <= 1)
                return b->first_usec;
        d = b->base_usec;
        for (unsigned i = 2; i < failures && d < b->max_usec; i++)
                d *= 2;
        return d < b->max_usec ? d : b->max_usec;
}

static void child_gone(Child *c, const char *why) {
        bool was_running = c->state == CHILD_RUNNING;
        pid_t pid = c->pid;
        uint64_t delay;
        int r;

        if (c->stopping || c->state == CHILD_FAILED || c->state == CHILD_BACKOFF ||
            c->state == CHILD_STOPPED)
                return;
        c->channel = channel_free(c->channel);
        c->timer = sd_event_source_disable_unref(c->timer);

        if (c->config.policy == CHILD_POLICY_FATE_SHARING) {
                /* The manager decides; a reaped child stays watched so that it is reaped. */
                c->state = CHILD_FAILED;
                if (c->config.on_down)
                        c->config.on_down(c, why, c->config.userdata);
                return;
        }

        child_release_process(c, true);
        c->failures++;
        if (c->failures >= c->config.backoff.max_failures) {
                c->state = CHILD_FAILED;
                log_error("%s (pid %d) is gone (%s); %u failures in a row, giving up",
                          c->config.name, (int) pid, why, c->failures);
                if (c->config.on_down)
                        c->config.on_down(c, why, c->config.userdata);
                return;
        }
        delay = child_backoff_delay(&c->config.backoff, c->failures);
        c->state = CHILD_BACKOFF;
        c->restart_at = now_usec() + delay;
        log_warning("%s (pid %d) is gone (%s)%s; restarting in %llu ms (failure %u in a row)",
                    c->config.name, (int) pid, why, was_running ? "" : " before it was ready",
                    (unsigned long long) (delay / 1000), c->failures);
        r = child_arm_timer(c, delay);
        if (r < 0) {
                log_error_errno(r, "%s: cannot schedule its restart: %m", c->config.name);
                c->state = CHILD_FAILED;
                if (c->config.on_down)
                        c->config.on_down(c, "cannot schedule a restart", c->config.userdata);
        }
}

int child_new(sd_event *e, const ChildConfig *config, Child **ret) {
        Child *c;

        if (!config->spawn || !config->send || !config->recv)
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (Child) { .event = sd_event_ref(e), .config = *config, .pidfd = -EBADF };
        *ret = c;
        return 0;
}

Child *child_free(Child *c) {
        if (!c)
                return NULL;
        channel_free(c->channel);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->stop_timer);
        child_release_process(c, false);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

int child_start(Child *c) {
        const ChannelConfig channel = {
                .send = c->config.send,
                .recv = c->config.recv,
                .asking = true,
                .ordered = c->config.ordered,
                .max_fds = c->config.max_fds,
                .on_message = child_on_message,
                .on_dead = child_on_channel_dead,
                .userdata = c,
        };
        int fds[2], r;

        if (c->state == CHILD_STARTING || c->state == CHILD_RUNNING || c->stopping)
                return -EBUSY;
        c->timer = sd_event_source_disable_unref(c->timer);
        c->state = CHILD_STARTING;
        c->starts++;
        r = ipc_socketpair(fds);
        if (r < 0) {
                child_spawn_failed(c, r, "cannot make its control socket");
                return r;
        }
        r = channel_new(c->event, fds[0], &channel, &c->channel);
        if (r < 0) {
                safe_close(fds[0]);
                safe_close(fds[1]);
                child_spawn_failed(c, r, "cannot watch its control socket");
                return r;
        }
        if (c->fake_peer) {
                *c->fake_peer = fds[1];
                child_spawned(c, 0, -EBADF, false);
                child_set_ready(c);
                return 0;
        }
        r = c->config.spawn(c, fds[1], c->config.userdata);
        if (r < 0 && c->state == CHILD_STARTING)
                child_spawn_failed(c, r, "cannot start it");
        return r;
}

int child_start_fake(Child *c, int *ret_peer) {
        c->fake_peer = ret_peer;
        return child_start(c);
}

void child_spawned(Child *c, pid_t pid, int pidfd, bool reap) {
        int r = 0;

        if (c->state != CHILD_STARTING || c->stopping) {
                /* Stopped (or gone) while the launcher worked: this process is not wanted. */
                if (pidfd >= 0 && !reap)
                        (void) pidfd_signal(pidfd, SIGKILL);
                safe_close(pidfd);
                return;
        }
        c->pid = c->last_pid = pid;
        c->pidfd = pidfd;
        if (pidfd >= 0) {
                if (reap)
                        r = reaper_new(c->event, pidfd, child_on_reaped, c, &c->reaper);
                else
                        r = sd_event_add_io(c->event, &c->exit_source, pidfd, EPOLLIN,
                                            child_on_pidfd, c);
        }
        if (r < 0) {
                log_error_errno(r, "%s: cannot watch pid %d: %m", c->config.name, (int) pid);
                child_gone(c, "cannot watch its process");
                return;
        }
        log_debug("%s started, pid %d", c->config.name, (int) pid);
}

void child_spawn_failed(Child *c, int error, const char *why) {
        snprintf(c->last_end, sizeof c->last_end, "%s: %s", why, strerror(abs_errno(error)));
        child_gone(c, c->last_end);
}

void child_set_ready(Child *c) {
        int r;

        if (c->state != CHILD_STARTING)
                return;
        c->state = CHILD_RUNNING;
        if (c->config.policy == CHILD_POLICY_RESTART) {
                r = child_arm_timer(c, c->config.backoff.healthy_usec);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot time its health, ignoring: %m",
                                          c->config.name);
        }
        if (c->config.on_ready)
                c->config.on_ready(c, c->config.userdata);
}

void child_note_exit(Child *c, pid_t pid, int code, int status) {
        char how[96];

        if (pid <= 0 || pid != c->last_pid)
                return;
        exit_to_string(code, status, how, sizeof how);
        snprintf(c->last_end, sizeof c->last_end, "pid %d %s", (int) pid, how);
        log_info("%s: pid %d %s", c->config.name, (int) pid, how);
}

int child_call(Child *c, ProtobufCMessage *req, int *fds, size_t n_fds, ChannelReplyFn fn,
               void *userdata) {
        if (!channel_is_open(c->channel) || c->stopping) {
                for (size_t i = 0; i < n_fds; i++)
                        fds[i] = safe_close(fds[i]);
                return -ENOTCONN;
        }
        return channel_call(c->channel, req, fds, n_fds, fn, userdata);
}

int child_send(Child *c, const ProtobufCMessage *msg, int *fds, size_t n_fds) {
        if (!channel_is_open(c->channel) || c->stopping) {
                for (size_t i = 0; i < n_fds; i++)
                        fds[i] = safe_close(fds[i]);
                return -ENOTCONN;
        }
        return channel_send(c->channel, msg, fds, n_fds);
}

static int child_on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Child *c = userdata;

        (void) s;
        (void) usec;
        c->stop_timer = sd_event_source_disable_unref(c->stop_timer);
        log_warning("%s (pid %d) did not end after its socket closed, killing it",
                    c->config.name, (int) c->pid);
        if (c->pidfd >= 0)
                (void) pidfd_signal(c->pidfd, SIGKILL);
        /* A reaped child still gets reaped: wait for that. Others are the launcher's. */
        if (!c->reaper)
                child_finish_stop(c);
        return 0;
}

void child_stop(Child *c, uint64_t timeout_usec, void (*done)(void *userdata), void *userdata) {
        int r;

        if (c->stopping)
                return;
        c->stopping = true;
        c->stopped = done;
        c->stopped_userdata = userdata;
        c->timer = sd_event_source_disable_unref(c->timer);
        /* The socket closing ends it. Only our own children are waited for; the launcher
         * reaps its own (and ends the stragglers when its socket closes). */
        c->channel = channel_free(c->channel);
        /* Nothing to wait for either when our own child was reaped already (a fate-sharing
         * one that ended before it was stopped). */
        if (!c->reaper || c->pid == 0) {
                child_finish_stop(c);
                return;
        }
        r = sd_event_add_time_relative(c->event, &c->stop_timer, CLOCK_MONOTONIC, timeout_usec, 0,
                                       child_on_stop_timeout, c);
        if (r < 0)
                child_on_stop_timeout(NULL, 0, c);
}

void child_info(const Child *c, ChildInfo *ret) {
        uint64_t now = now_usec();

        *ret = (ChildInfo) {
                .name = c->config.name,
                .state = c->state,
                .pid = c->pid,
                .starts = c->starts,
                .failures = c->failures,
                .restart_in_usec = c->state == CHILD_BACKOFF && c->restart_at > now
                                           ? c->restart_at - now : 0,
                .last_end = c->last_end,
        };
}

ChildState child_state(const Child *c) {
        return c->state;
}

pid_t child_pid(const Child *c) {
        return c->pid;
}

Channel *child_channel(const Child *c) {
        return c->channel;
}
