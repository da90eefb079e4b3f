/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link reaper (link-reaper.h). Theory of operation:
 *
 *   1. the main thread moves links into PP_DELETE_GROUP (down, cut off), then hands their
 *      names over: one more "round" is requested, and each name remembers the round that
 *      deletes it;
 *   2. the thread wakes when rounds are requested and not done, notes the last one
 *      requested, and deletes PP_DELETE_GROUP in one RTM_DELLINK. Every link handed over
 *      up to that round was in the group before the request was sent, so it is gone when
 *      the answer comes; links handed over meanwhile wait for the next round;
 *   3. rounds done, names of those rounds are forgotten, and waiters (a connect whose name
 *      is still on its way out, the exit) are woken.
 *
 * The thread touches only its own socket (one per round) and this struct, under the lock; it never blocks
 * the main thread except where the main thread asks to wait.
 */
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "link-reaper.h"
#include "log.h"
#include "macro.h"
#include "rtnl.h"
#include "time-util.h"

typedef struct Pending {
        char name[IFNAMSIZ];
        uint64_t round;
} Pending;

struct LinkReaper {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t work;   /* to the thread: a round requested, or stop */
        pthread_cond_t done;   /* from the thread: a round done */
        uint64_t requested, completed;
        bool started, stop;
        Pending *pending;
        size_t n_pending, cap_pending;
};

/* Delete the group; a group that is empty (every link in it gone already) is no failure. */
static int reaper_delete_group(void) {
        _cleanup_(rtnl_close) Rtnl rt = RTNL_NULL;
        const struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        RtnlBatch b = {};
        struct nlmsghdr *nlh;
        int k;

        /* A socket per round, in the netns of this thread (the helper's own: only the main
         * thread ever enters a client's): it costs microseconds against the milliseconds of
         * the deletion, and the helper holds no descriptor more while idle. */
        k = rtnl_open(&rt);
        if (k < 0)
                return k;
        nlh = rtnl_batch_put(&b, &rt, RTM_DELLINK, 0, &ifi, sizeof ifi);
        rtnl_put_u32(&b, nlh, IFLA_GROUP, PP_DELETE_GROUP);
        k = rtnl_batch_send(&rt, &b);
        if (k >= 0)
                k = rtnl_batch_wait(&rt, &b, NULL, NULL);
        if (k >= 0)
                k = b.error[0];
        return k == -ENODEV ? 0 : k;
}

static void *reaper_main(void *userdata) {
        LinkReaper *r = userdata;

        pthread_mutex_lock(&r->lock);
        r->started = true;
        pthread_cond_broadcast(&r->done);
        for (;;) {
                uint64_t round;
                int k;

                while (!r->stop && r->completed == r->requested)
                        pthread_cond_wait(&r->work, &r->lock);
                if (r->completed == r->requested)
                        break; /* stop, and nothing left to do */
                round = r->requested;
                size_t n = r->n_pending;
                pthread_mutex_unlock(&r->lock);

                uint64_t t0 = now_usec();
                k = reaper_delete_group();
                if (k < 0)
                        /* They stay in the group, down: the next round, DatapathStop or the
                         * next start deletes them. */
                        log_warning("Failed to delete links on their way out: %s, ignoring",
                                    strerror(-k));
                else
                        log_debug("Deleted the links of %zu teardowns in %llu us", n,
                                  (unsigned long long) (now_usec() - t0));

                pthread_mutex_lock(&r->lock);
                r->completed = round;
                size_t kept = 0;
                for (size_t i = 0; i < r->n_pending; i++)
                        if (r->pending[i].round > round)
                                r->pending[kept++] = r->pending[i];
                r->n_pending = kept;
                pthread_cond_broadcast(&r->done);
        }
        pthread_mutex_unlock(&r->lock);
        return NULL;
}

int link_reaper_new(LinkReaper **ret) {
        _cleanup_free_ LinkReaper *r = calloc(1, sizeof *r);
        int k;

        if (!r)
                return -ENOMEM;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->work, NULL);
        pthread_cond_init(&r->done, NULL);
        k = -pthread_create(&r->thread, NULL, reaper_main, r);
        if (k < 0) {
                pthread_cond_destroy(&r->done);
                pthread_cond_destroy(&r->work);
                pthread_mutex_destroy(&r->lock);
                return k;
        }
        /* Up and running before the caller goes on: whatever a thread's start costs in
         * system calls (the C library's, a sanitizer's) happens before the seccomp policy. */
        pthread_mutex_lock(&r->lock);
        while (!r->started)
                pthread_cond_wait(&r->done, &r->lock);
        pthread_mutex_unlock(&r->lock);
        *ret = TAKE_PTR(r);
        return 0;
}

LinkReaper *link_reaper_free(LinkReaper *r) {
        if (!r)
                return NULL;
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_signal(&r->work);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->done);
        pthread_cond_destroy(&r->work);
        pthread_mutex_destroy(&r->lock);
        free(r->pending);
        free(r);
        return NULL;
}

void link_reaper_hand(LinkReaper *r, const char (*names)[IFNAMSIZ], unsigned n) {
        if (!r || n == 0)
                return;
        pthread_mutex_lock(&r->lock);
        r->requested++;
        if (r->n_pending + n > r->cap_pending) {
                size_t cap = (r->n_pending + n) * 2;
                Pending *p = reallocarray(r->pending, cap, sizeof *p);

                if (p) {
                        r->pending = p;
                        r->cap_pending = cap;
                }
        }
        /* Out of memory, a name is not remembered: a connect reusing it (ids wrap only
         * after a billion) could fail with EEXIST, no worse. */
        for (unsigned i = 0; i < n && r->n_pending < r->cap_pending; i++) {
                Pending *p = &r->pending[r->n_pending++];

                memcpy(p->name, names[i], IFNAMSIZ);
                p->name[IFNAMSIZ - 1] = '\0';
                p->round = r->requested;
        }
        pthread_cond_signal(&r->work);
        pthread_mutex_unlock(&r->lock);
}

bool link_reaper_wait_name(LinkReaper *r, const char *name) {
        uint64_t round = 0;

        if (!r)
                return false;
        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->n_pending; i++)
                if (strcmp(r->pending[i].name, name) == 0 && r->pending[i].round > round)
                        round = r->pending[i].round;
        while (r->completed < round)
                pthread_cond_wait(&r->done, &r->lock);
        pthread_mutex_unlock(&r->lock);
        return round > 0;
}

bool link_reaper_wait_all(LinkReaper *r) {
        uint64_t round;

        if (!r)
                return false;
        pthread_mutex_lock(&r->lock);
        round = r->requested;
        bool waited = r->completed < round;
        while (r->completed < round)
                pthread_cond_wait(&r->done, &r->lock);
        pthread_mutex_unlock(&r->lock);
        return waited;
}
