/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include "macro.h"
#include "reaper.h"

/* How long to wait before asking again after a wake-up that gave nothing to reap. */
#define REAPER_RETRY_USEC (20 * 1000)
/* ... to within a millisecond (0 would be sd-event's default accuracy, 250 ms) */
#define REAPER_RETRY_ACCURACY_USEC (1000)

struct Reaper {
        sd_event *event;
        int pidfd;
        sd_event_source *io;
        sd_event_source *retry;
        ReaperFn fn;
        void *userdata;
};

Reaper *reaper_free(Reaper *r) {
        if (!r)
                return NULL;
        sd_event_source_disable_unref(r->io);
        sd_event_source_disable_unref(r->retry);
        safe_close(r->pidfd);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

int reaper_pidfd(const Reaper *r) {
        return r->pidfd;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Reaper *r = userdata;

        (void) s;
        (void) usec;
        /* Readable again at once if it still cannot be reaped; then another round. */
        return sd_event_source_set_enabled(r->io, SD_EVENT_ON);
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Reaper *r = userdata;
        siginfo_t si;
        int k;

        (void) s;
        (void) revents;
        memset(&si, 0, sizeof si);
        if (waitid((idtype_t) P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG) < 0) {
                /* Not ours to reap after all (or reaped behind our back): ended, status
                 * unknown. */
                si.si_code = 0;
                si.si_status = -errno;
        } else if (si.si_pid == 0) {
                /* Ended but held by a tracer: the pidfd stays readable, so look away for a
                 * while rather than spin. */
                k = sd_event_source_set_enabled(r->io, SD_EVENT_OFF);
                if (k >= 0)
                        k = sd_event_source_set_time_relative(r->retry, REAPER_RETRY_USEC);
                if (k >= 0)
                        k = sd_event_source_set_enabled(r->retry, SD_EVENT_ONESHOT);
                return k;
        }
        (void) sd_event_source_set_enabled(r->io, SD_EVENT_OFF);
        r->fn(r, &si, r->userdata);
        return 0;
}

int reaper_new(sd_event *e, int pidfd, ReaperFn fn, void *userdata, Reaper **ret) {
        Reaper *r;
        int k;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        *r = (Reaper) { .event = sd_event_ref(e), .pidfd = -EBADF, .fn = fn,
                        .userdata = userdata };
        k = sd_event_add_io(e, &r->io, pidfd, EPOLLIN, on_pidfd, r);
        if (k >= 0)
                k = sd_event_add_time_relative(e, &r->retry, CLOCK_MONOTONIC, REAPER_RETRY_USEC,
                                               REAPER_RETRY_ACCURACY_USEC, on_retry, r);
        if (k >= 0)
                k = sd_event_source_set_enabled(r->retry, SD_EVENT_OFF);
        if (k < 0) {
                reaper_free(r);
                return k;
        }
        r->pidfd = pidfd;
        *ret = r;
        return 0;
}
