/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Who is calling, asked of the bus without blocking; and methods that name a process
 * (ConnectNamespace, ArcStartup), which act on it only for callers allowed to: root any
 * process, anyone else (the bus policy decides who may call at all) only processes running
 * as their own user. The pid is pinned as a pidfd when the call arrives; the process is
 * confirmed alive after its owner is read, so the owner checked is that of the process
 * acted on.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Manager Manager;

/*
 * The uids of recent callers, by unique bus name. The bus never gives a unique name to a
 * second connection during its life, and a connection's uid is fixed when it connects, so
 * an entry never goes stale: the table only bounds how many are kept (least recently used
 * goes first). A caller seen before costs no round trip to the bus.
 */
#define BUS_CALLER_CACHE_SIZE 64
#define BUS_CALLER_NAME_MAX 32

typedef struct BusCallerCache {
        struct {
                char name[BUS_CALLER_NAME_MAX]; /* "" for a free slot */
                uid_t uid;
                uint64_t used;                  /* when last looked up (cache clock) */
        } entries[BUS_CALLER_CACHE_SIZE];
        uint64_t clock;
        uint64_t hits, misses;
} BusCallerCache;

/*
 * bus_caller_cache_lookup() - the uid of unique name @sender, if it is cached.
 * Return: true and *ret_uid set, or false.
 */
bool bus_caller_cache_lookup(BusCallerCache *c, const char *sender, uid_t *ret_uid);
/* bus_caller_cache_add() - remember that @sender is @uid (names too long are not kept). */
void bus_caller_cache_add(BusCallerCache *c, const char *sender, uid_t uid);

/* The caller of @call is @uid: go on with the call (reply to it, now or later). */
typedef void (*BusCallerFn)(Manager *m, sd_bus_message *call, uid_t uid, void *userdata);

/*
 * bus_caller_uid() - ask the bus who sent @call; @fn follows with the uid, or an error
 * reply is sent if the caller cannot be identified or the daemon is stopping meanwhile.
 * A caller whose uid is cached (BusCallerCache) goes on at once: @fn runs before this
 * returns.
 * @free_userdata: frees @userdata once fn has run or the lookup failed (may be NULL)
 *
 * Return: 1 when the lookup is under way or done, or a negative errno with @error set.
 */
int bus_caller_uid(Manager *m, sd_bus_message *call, BusCallerFn fn, void *userdata,
                   void (*free_userdata)(void *), sd_bus_error *error);

/* The caller may act on the process: go on with the call. pidfd is yours; uid is the
 * caller's. */
typedef void (*BusPidContinueFn)(Manager *m, sd_bus_message *call, int pidfd, uid_t uid,
                                 void *userdata);

/*
 * bus_pid_authorize() - pin @pid, then check the caller of @call may act on it.
 * @free_userdata: frees @userdata once fn has run or the check failed (may be NULL)
 *
 * Return: 1 when the check is under way (fn, or an error reply, follows), or a negative
 * errno with @error set when the call fails at once.
 */
int bus_pid_authorize(Manager *m, sd_bus_message *call, pid_t pid, BusPidContinueFn fn,
                      void *userdata, void (*free_userdata)(void *), sd_bus_error *error);
