/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Reaper: waits for one child process of ours to end, reaps it and says how it ended.
 *
 * Why not sd-event's child source: it watches the pidfd with EPOLLONESHOT and, when the
 * pidfd turns readable but waitid() has nothing to give yet, forgets the child for good.
 * That happens when the child ended while a process other than us traced it (the kernel
 * marks it a zombie and wakes its pidfd; we may reap it only once the tracer lets go): seen
 * as a launcher waiting forever for a sanitizer build's forwarder, whose leak check at exit
 * traces it. Here such a wake-up is noted, and the question is asked again a moment later,
 * until the child can be reaped.
 *
 * Library code: it does not log.
 */

#include <signal.h>
#include <systemd/sd-event.h>

typedef struct Reaper Reaper;

/* The child is reaped; @si is waitid()'s answer. The callback may free @r. */
typedef void (*ReaperFn)(Reaper *r, const siginfo_t *si, void *userdata);

/*
 * reaper_new() - watch a child of ours in @e.
 * @pidfd: the child's pidfd, taken over on success only
 * Return: 0 or a negative errno.
 */
int reaper_new(sd_event *e, int pidfd, ReaperFn fn, void *userdata, Reaper **ret);
/* Stop watching and close the pidfd. A child still running is neither signalled nor, later,
 * reaped. Return: NULL. */
Reaper *reaper_free(Reaper *r);
/* The child's pidfd, to signal it (it stays ours). */
int reaper_pidfd(const Reaper *r);
