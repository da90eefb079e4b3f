/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A supervised child process of the manager: how it is started, its control channel, how
 * its end is noticed, what happens then, and what it must be told again when it comes back.
 * The helper and the launcher are children the manager shares its fate with; the forwarders
 * are children that are restarted.
 *
 *   STOPPED ── child_start() ──> STARTING ── child_set_ready() ──> RUNNING
 *                                   │                                 │
 *                                   └──── socket closed, exit, ───────┘
 *                                          spawn failed
 *                                              │
 *                 fate sharing: FAILED, on_down ┤ restart: BACKOFF ── timer ──> STARTING
 *                                              └ (N failures in a row: FAILED, on_down)
 *
 * Restart policy: the first failure after good health restarts at once; each further one in
 * a row waits twice as long as the one before, from base_usec up to max_usec; healthy_usec
 * of running resets the count; max_failures in a row gives up, with an error in the log
 * and the state FAILED in GetStatus. A child's control socket closing means its end (and a
 * process still there is killed), as does its process exiting.
 */

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "channel.h"

typedef struct Child Child;

typedef enum ChildState {
        CHILD_STOPPED,
        CHILD_STARTING,
        CHILD_RUNNING,
        CHILD_BACKOFF,
        CHILD_FAILED,
        _CHILD_STATE_MAX,
        _CHILD_STATE_INVALID = -EINVAL,
} ChildState;

typedef enum ChildPolicy {
        CHILD_POLICY_FATE_SHARING, /* its end is the manager's: on_down, no restart */
        CHILD_POLICY_RESTART,
        _CHILD_POLICY_MAX,
        _CHILD_POLICY_INVALID = -EINVAL,
} ChildPolicy;

typedef struct ChildBackoff {
        uint64_t first_usec;   /* before the first restart after good health */
        uint64_t base_usec;    /* before the second in a row; doubling from there */
        uint64_t max_usec;
        uint64_t healthy_usec; /* running this long resets the count */
        unsigned max_failures; /* this many in a row: give up */
} ChildBackoff;

/* At once, then 1 s doubling to 30 s; a minute resets; the 8th failure in a row gives up. */
extern const ChildBackoff child_backoff_default;

typedef struct ChildConfig {
        const char *name; /* for the log and the status */
        ChildPolicy policy;
        ChildBackoff backoff;
        /* The channel: what the manager sends and receives, answers in order or not, fds
         * allowed with a received message. */
        const ProtobufCMessageDescriptor *send, *recv;
        bool ordered;
        size_t max_fds;
        /*
         * Start a process whose control socket is @control (taken over in every case). Call
         * child_spawned() when it runs (now or later), or child_spawn_failed(); a negative
         * return is the same as the latter.
         */
        int (*spawn)(Child *c, int control, void *userdata);
        /* Up (see child_set_ready()): tell it everything it must know. */
        void (*on_ready)(Child *c, void *userdata);
        /* An event from the child; fds as for ChannelMessageFn. */
        void (*on_event)(Child *c, const ProtobufCMessage *ev, int *fds, size_t n_fds,
                         void *userdata);
        /* Fate sharing: it ended. Restart: it was given up. */
        void (*on_down)(Child *c, const char *why, void *userdata);
        void *userdata;
} ChildConfig;

const char *child_state_to_string(ChildState s);

int child_new(sd_event *e, const ChildConfig *config, Child **ret);
Child *child_free(Child *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Child *, child_free);

/* Make the control socket pair and call the spawn function. Return: 0 or a negative errno
 * (the child then is down or backing off as if it had died). */
int child_start(Child *c);
/* For unit tests: no process; the child's end of its control socket comes back in
 * @ret_peer, and it counts as ready at once. */
int child_start_fake(Child *c, int *ret_peer);

/*
 * child_spawned() - the process runs.
 * @pid: its pid, or 0 for a peer without a process of its own (tests)
 * @pidfd: a pidfd of it (taken over), or -EBADF
 * @reap: it is our own child: reap it and read its exit status (else the pidfd only says it
 *        has ended, and child_note_exit() may tell how)
 */
void child_spawned(Child *c, pid_t pid, int pidfd, bool reap);
void child_spawn_failed(Child *c, int error, const char *why);
/* It has said it is up (or needs not say): RUNNING, on_ready, the health timer. */
void child_set_ready(Child *c);
/* How the process @pid ended, learnt from elsewhere (the launcher), for the log/status;
 * ignored unless @pid is the child's latest process. */
void child_note_exit(Child *c, pid_t pid, int code, int status);

/* Send on its channel (channel_call() / channel_send()); -ENOTCONN when not running. */
int child_call(Child *c, ProtobufCMessage *req, int *fds, size_t n_fds, ChannelReplyFn fn,
               void *userdata);
int child_send(Child *c, const ProtobufCMessage *msg, int *fds, size_t n_fds);

/*
 * child_stop() - close its control socket, which ends it, and forget any restart; @done
 * (if not NULL) follows with @userdata: at once for a child we do not reap (its parent
 * does), else once it has exited or after @timeout_usec, when it is killed. Calling it
 * again does nothing.
 */
void child_stop(Child *c, uint64_t timeout_usec, void (*done)(void *userdata), void *userdata);

/* For the status and the tests. */
typedef struct ChildInfo {
        const char *name;
        ChildState state;
        pid_t pid;                 /* 0 if none */
        unsigned starts;           /* processes started so far */
        unsigned failures;         /* in a row */
        uint64_t restart_in_usec;  /* BACKOFF: until the next start */
        const char *last_end;      /* how the last one ended, "" if none has */
} ChildInfo;
void child_info(const Child *c, ChildInfo *ret);
ChildState child_state(const Child *c);
pid_t child_pid(const Child *c);
Channel *child_channel(const Child *c);
