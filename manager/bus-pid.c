/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus-names.h"
#include "bus-pid.h"
#include "macro.h"
#include "manager.h"
#include "pidfd-util.h"

typedef struct PidCheck {
        Manager *manager;
        sd_bus_message *call;
        pid_t pid;
        int pidfd;
        BusPidContinueFn fn;
        void *userdata;
        void (*free_userdata)(void *);
} PidCheck;

static void pid_check_free(void *p) {
        PidCheck *c = p;

        if (c->free_userdata)
                c->free_userdata(c->userdata);
        sd_bus_message_unref(c->call);
        safe_close(c->pidfd);
        free(c);
}

static int open_process(pid_t pid, int *ret_pidfd, sd_bus_error *error) {
        int pidfd = pidfd_open_pid(pid);

        if (pidfd == -ESRCH)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Process %d does not exist", (int) pid);
        /* A thread that leads no thread group: EINVAL before Linux 6.9, ENOENT since. */
        if (pidfd == -EINVAL || pidfd == -ENOENT)
                return sd_bus_error_setf(error, PP_ERROR_INVALID_ARGUMENT,
                                         "Pid %d is a thread, not a process: give the pid of "
                                         "its process (its thread group's leader)", (int) pid);
        if (pidfd == -EMFILE || pidfd == -ENFILE)
                return sd_bus_error_setf(error, PP_ERROR_EXHAUSTED, "Out of file descriptors");
        if (pidfd < 0)
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot open process %d: %s",
                                         (int) pid, strerror(-pidfd));
        *ret_pidfd = pidfd;
        return 0;
}

/* 0 if a caller with uid may act on the process; otherwise the error reply is sent. */
static int pid_check_owner(PidCheck *c, uid_t uid) {
        char path[32];
        struct stat st;

        if (uid == 0)
                return 0;
        snprintf(path, sizeof path, "/proc/%d", (int) c->pid);
        if (stat(path, &st) < 0 || pidfd_is_alive(c->pidfd) <= 0)
                return sd_bus_reply_method_errorf(c->call, PP_ERROR_INVALID_ARGUMENT,
                                                  "Process %d does not exist", (int) c->pid);
        if (st.st_uid != uid)
                return sd_bus_reply_method_errorf(c->call, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Process %d belongs to another user",
                                                  (int) c->pid);
        return 0;
}

static int on_caller_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PidCheck *c = userdata;
        uint32_t uid;

        (void) ret_error;
        if (sd_bus_message_is_method_error(reply, NULL) ||
            sd_bus_message_read(reply, "u", &uid) < 0) {
                (void) sd_bus_reply_method_errorf(c->call, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Cannot identify the caller");
                return 0;
        }
        if (pid_check_owner(c, (uid_t) uid) != 0)
                return 0; /* replied */
        if (c->manager->stopping) {
                (void) sd_bus_reply_method_errorf(c->call, PP_ERROR_FAILED,
                                                  "The daemon is shutting down");
                return 0;
        }
        c->fn(c->manager, c->call, TAKE_FD(c->pidfd), c->userdata);
        return 0;
}

int bus_pid_authorize(Manager *m, sd_bus_message *call, pid_t pid, BusPidContinueFn fn,
                      void *userdata, void (*free_userdata)(void *), sd_bus_error *error) {
        sd_bus_slot *slot = NULL;
        PidCheck *c;
        int pidfd = -EBADF, r;

        r = open_process(pid, &pidfd, error);
        if (r < 0) {
                if (free_userdata)
                        free_userdata(userdata);
                return r;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(pidfd);
                if (free_userdata)
                        free_userdata(userdata);
                return -ENOMEM;
        }
        *c = (PidCheck) {
                .manager = m,
                .call = sd_bus_message_ref(call),
                .pid = pid,
                .pidfd = pidfd,
                .fn = fn,
                .userdata = userdata,
                .free_userdata = free_userdata,
        };
        r = sd_bus_call_method_async(sd_bus_message_get_bus(call), &slot, "org.freedesktop.DBus",
                                     "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "GetConnectionUnixUser", on_caller_uid, c, "s",
                                     sd_bus_message_get_sender(call));
        if (r < 0) {
                pid_check_free(c);
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot identify the caller: %s",
                                         strerror(-r));
        }
        /* The slot belongs to the bus from here, and frees c when done with it. */
        (void) sd_bus_slot_set_destroy_callback(slot, pid_check_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 1;
}
