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

#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Manager Manager;

/* The caller of @call is @uid: go on with the call (reply to it, now or later). */
typedef void (*BusCallerFn)(Manager *m, sd_bus_message *call, uid_t uid, void *userdata);

/*
 * bus_caller_uid() - ask the bus who sent @call; @fn follows with the uid, or an error
 * reply is sent if the caller cannot be identified or the daemon is stopping meanwhile.
 * @free_userdata: frees @userdata once fn has run or the lookup failed (may be NULL)
 *
 * Return: 1 when the lookup is under way, or a negative errno with @error set.
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
