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

/* One lookup of the caller's uid, and what to do with it. */
typedef struct CallerLookup {
        Manager *manager;
        sd_bus_message *call;
        BusCallerFn fn;
        void *userdata;
        void (*free_userdata)(void *);
} CallerLookup;

static void caller_lookup_free(void *p) {
        CallerLookup *c = p;

        if (c->free_userdata)
                c->free_userdata(c->userdata);
        sd_bus_message_unref(c->call);
        free(c);
}

bool bus_caller_cache_lookup(BusCallerCache *c, const char *sender, uid_t *ret_uid) {
        if (!sender)
                return false;
        for (size_t i = 0; i < BUS_CALLER_CACHE_SIZE; i++)
                if (c->entries[i].name[0] && strcmp(c->entries[i].name, sender) == 0) {
                        c->entries[i].used = ++c->clock;
                        c->hits++;
                        *ret_uid = c->entries[i].uid;
                        return true;
                }
        c->misses++;
        return false;
}

void bus_caller_cache_add(BusCallerCache *c, const char *sender, uid_t uid) {
        size_t victim = 0;

        if (!sender || strlen(sender) >= BUS_CALLER_NAME_MAX)
                return;
        for (size_t i = 0; i < BUS_CALLER_CACHE_SIZE; i++) {
                if (c->entries[i].name[0] && strcmp(c->entries[i].name, sender) == 0) {
                        victim = i; /* two lookups of one new caller raced: same answer */
                        break;
                }
                if (c->entries[i].used < c->entries[victim].used)
                        victim = i;
        }
        snprintf(c->entries[victim].name, sizeof c->entries[victim].name, "%s", sender);
        c->entries[victim].uid = uid;
        c->entries[victim].used = ++c->clock;
}

static int on_caller_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        CallerLookup *c = userdata;
        uint32_t uid;

        (void) ret_error;
        if (sd_bus_message_is_method_error(reply, NULL) ||
            sd_bus_message_read(reply, "u", &uid) < 0) {
                (void) sd_bus_reply_method_errorf(c->call, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Cannot identify the caller");
                return 0;
        }
        bus_caller_cache_add(&c->manager->callers, sd_bus_message_get_sender(c->call),
                             (uid_t) uid);
        if (c->manager->stopping) {
                (void) sd_bus_reply_method_errorf(c->call, PP_ERROR_FAILED,
                                                  "The daemon is shutting down");
                return 0;
        }
        c->fn(c->manager, c->call, (uid_t) uid, c->userdata);
        return 0;
}

int bus_caller_uid(Manager *m, sd_bus_message *call, BusCallerFn fn, void *userdata,
                   void (*free_userdata)(void *), sd_bus_error *error) {
        sd_bus_slot *slot = NULL;
        CallerLookup *c;
        uid_t uid;
        int r;

        if (bus_caller_cache_lookup(&m->callers, sd_bus_message_get_sender(call), &uid)) {
                /* Known: on at once, as the answer would have gone on. */
                if (m->stopping)
                        (void) sd_bus_reply_method_errorf(call, PP_ERROR_FAILED,
                                                          "The daemon is shutting down");
                else
                        fn(m, call, uid, userdata);
                if (free_userdata)
                        free_userdata(userdata);
                return 1;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                if (free_userdata)
                        free_userdata(userdata);
                return -ENOMEM;
        }
        *c = (CallerLookup) { .manager = m, .call = sd_bus_message_ref(call), .fn = fn,
                              .userdata = userdata, .free_userdata = free_userdata };
        r = sd_bus_call_method_async(sd_bus_message_get_bus(call), &slot, "org.freedesktop.DBus",
                                     "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                     "GetConnectionUnixUser", on_caller_uid, c, "s",
                                     sd_bus_message_get_sender(call));
        if (r < 0) {
                caller_lookup_free(c);
                return sd_bus_error_setf(error, PP_ERROR_FAILED, "Cannot identify the caller: %s",
                                         strerror(-r));
        }
        /* The slot belongs to the bus from here, and frees c when done with it. */
        (void) sd_bus_slot_set_destroy_callback(slot, caller_lookup_free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 1;
}

/* A process named by a call, pinned, and what to do once its owner is checked. */
typedef struct PidCheck {
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
static int pid_check_owner(PidCheck *c, sd_bus_message *call, uid_t uid) {
        char path[32];
        struct stat st;

        if (uid == 0)
                return 0;
        snprintf(path, sizeof path, "/proc/%d", (int) c->pid);
        if (stat(path, &st) < 0 || pidfd_is_alive(c->pidfd) <= 0)
                return sd_bus_reply_method_errorf(call, PP_ERROR_INVALID_ARGUMENT,
                                                  "Process %d does not exist", (int) c->pid);
        if (st.st_uid != uid)
                return sd_bus_reply_method_errorf(call, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Process %d belongs to another user",
                                                  (int) c->pid);
        return 0;
}

static void pid_check_on_caller(Manager *m, sd_bus_message *call, uid_t uid, void *userdata) {
        PidCheck *c = userdata;

        if (pid_check_owner(c, call, uid) != 0)
                return; /* replied */
        c->fn(m, call, TAKE_FD(c->pidfd), uid, c->userdata);
}

int bus_pid_authorize(Manager *m, sd_bus_message *call, pid_t pid, BusPidContinueFn fn,
                      void *userdata, void (*free_userdata)(void *), sd_bus_error *error) {
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
        *c = (PidCheck) { .pid = pid, .pidfd = pidfd, .fn = fn, .userdata = userdata,
                          .free_userdata = free_userdata };
        return bus_caller_uid(m, call, pid_check_on_caller, c, pid_check_free, error);
}
