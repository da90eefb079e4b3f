/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Methods that name a process (ConnectNamespace, ArcStartup) act on it only for callers
 * allowed to: root any process, anyone else (the bus policy decides who may call at all)
 * only processes running as their own user. The pid is pinned as a pidfd when the call
 * arrives; the caller's uid is asked of the bus without blocking; the process is confirmed
 * alive after its owner is read, so the owner checked is that of the process acted on.
 */

#include <sys/types.h>
#include <systemd/sd-bus.h>

typedef struct Manager Manager;

/* The caller may act on the process: go on with the call. pidfd is yours. */
typedef void (*BusPidContinueFn)(Manager *m, sd_bus_message *call, int pidfd, void *userdata);

/*
 * bus_pid_authorize() - pin @pid, then check the caller of @call may act on it.
 * @free_userdata: frees @userdata once fn has run or the check failed (may be NULL)
 *
 * Return: 1 when the check is under way (fn, or an error reply, follows), or a negative
 * errno with @error set when the call fails at once.
 */
int bus_pid_authorize(Manager *m, sd_bus_message *call, pid_t pid, BusPidContinueFn fn,
                      void *userdata, void (*free_userdata)(void *), sd_bus_error *error);
