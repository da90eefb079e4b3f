/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Deleting links without waiting for it. A link's deletion returns only once the kernel has
 * unregistered it (RCU grace periods: ~15-20 ms here), and rtnetlink runs it in the
 * sender's own system call, so a helper deleting links itself answers nothing else for that
 * long. Instead the teardown cuts a guest off at once (its link down, moved into
 * PP_DELETE_GROUP) and hands the name over; a thread of the helper then deletes the whole
 * group in one RTM_DELLINK (one grace period for every link handed over meanwhile), on a
 * socket of its own. The helper's main thread goes on meanwhile.
 *
 * Nothing leaks: a link in PP_DELETE_GROUP is the daemon's (link_mark_is_ours()), so the
 * sweeps at DatapathStart and DatapathStop, and a fresh daemon after a SIGKILL, delete
 * whatever the thread did not get to; at exit the thread finishes its work before it ends.
 */

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct LinkReaper LinkReaper;

/*
 * link_reaper_new() - start the thread, in the caller's netns (where the links are; the
 * thread stays there, whatever netns the caller enters later).
 * @ret: the reaper
 *
 * Return: 0 or a negative errno.
 */
int link_reaper_new(LinkReaper **ret);
/* Finish what was handed over, stop the thread, free. Accepts NULL; returns NULL. */
LinkReaper *link_reaper_free(LinkReaper *r);

/*
 * link_reaper_hand() - links now in PP_DELETE_GROUP, to be deleted as soon as the thread
 * gets to them.
 * @r: the reaper
 * @names: their names, remembered until they are gone (link_reaper_wait_name())
 * @n: how many
 */
void link_reaper_hand(LinkReaper *r, const char (*names)[IFNAMSIZ], unsigned n);

/*
 * link_reaper_wait_name() - wait until no link handed over under this name exists any more:
 * a new link of the same name must not collide with one on its way out.
 * @r: the reaper
 * @name: the name
 *
 * Return: true if it had to wait. A NULL @r has nothing pending.
 */
bool link_reaper_wait_name(LinkReaper *r, const char *name);

/*
 * link_reaper_wait_all() - wait until everything handed over so far is deleted.
 * @r: the reaper
 *
 * Return: true if anything was pending. A NULL @r has nothing pending.
 */
bool link_reaper_wait_all(LinkReaper *r);
