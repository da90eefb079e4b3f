/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>

#include "launcher-link.h"
#include "log.h"
#include "spawn.h"

typedef Patchpanel__Ipc__LauncherRequest LauncherRequest;
typedef Patchpanel__Ipc__LauncherResponse LauncherResponse;

struct LauncherLink {
        Child *child;
        LauncherExitFn on_exit;
        LauncherDownFn on_down;
        void *userdata;
        LauncherArgs args;
};

static int launcher_spawn_self(Child *c, int control, void *userdata) {
        LauncherLink *l = userdata;
        char level[64], seccomp[32];
        char *argv[] = { (char *) "patchpanel-launcher", (char *) "--ipc-fd=3",
                         (char *) "--bin-dir-fd=4", level, seccomp, NULL };
        pid_t pid;
        int pidfd, r;

        snprintf(level, sizeof level, "--log-level=%s", l->args.log_level ?: "info");
        snprintf(seccomp, sizeof seccomp, "--seccomp=%s", seccomp_mode_to_string(l->args.seccomp));
        r = spawn_direct(&(SpawnDirect) {
                                 .path = l->args.path,
                                 .argv = argv,
                                 .as_user = true,
                                 .uid = l->args.uid,
                                 .gid = l->args.gid,
                                 /* Only to hand on to the forwarders that open raw sockets. */
                                 .ambient = (const int[]) { CAP_NET_RAW },
                                 .n_ambient = 1,
                                 /* Its user may not reach a build tree (under /root, say)
                                  * by path: the binaries beside it are opened from this. */
                                 .pass_dir = true,
                         },
                         control, &pid, &pidfd);
        if (r < 0)
                return r;
        child_spawned(c, pid, pidfd, /* reap= */ true);
        child_set_ready(c);
        return 0;
}

static void launcher_on_event(Child *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                              void *userdata) {
        const LauncherResponse *ev = (const LauncherResponse *) msg;
        LauncherLink *l = userdata;

        (void) c;
        (void) fds;
        if (ev->result_case != PATCHPANEL__IPC__LAUNCHER_RESPONSE__RESULT_EXITED || n_fds != 0) {
                log_warning("Unexpected event %d from the launcher, ignoring", (int) ev->result_case);
                return;
        }
        if (l->on_exit)
                l->on_exit(ev->exited->pid, ev->exited->code, ev->exited->status, l->userdata);
}

static void launcher_on_down(Child *c, const char *why, void *userdata) {
        LauncherLink *l = userdata;

        (void) c;
        if (l->on_down)
                l->on_down(why, l->userdata);
}

int launcher_link_new(sd_event *e, LauncherExitFn on_exit, LauncherDownFn on_down,
                      void *userdata, LauncherLink **ret) {
        LauncherLink *l = calloc(1, sizeof *l);
        int r;

        if (!l)
                return -ENOMEM;
        *l = (LauncherLink) { .on_exit = on_exit, .on_down = on_down, .userdata = userdata };
        r = child_new(e, &(ChildConfig) {
                              .name = "patchpanel-launcher",
                              .policy = CHILD_POLICY_FATE_SHARING,
                              .send = &patchpanel__ipc__launcher_request__descriptor,
                              .recv = &patchpanel__ipc__launcher_response__descriptor,
                              .ordered = true,
                              .max_fds = 1,
                              .spawn = launcher_spawn_self,
                              .on_event = launcher_on_event,
                              .on_down = launcher_on_down,
                              .userdata = l,
                      },
                      &l->child);
        if (r < 0) {
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

LauncherLink *launcher_link_free(LauncherLink *l) {
        if (!l)
                return NULL;
        child_free(l->child);
        free(l);
        return NULL;
}

int launcher_link_start(LauncherLink *l, const LauncherArgs *args) {
        l->args = *args;
        return child_start(l->child);
}

int launcher_link_start_fake(LauncherLink *l, int *ret_peer) {
        return child_start_fake(l->child, ret_peer);
}

static void launcher_on_spawned(const ProtobufCMessage *answer, int *fds, size_t n_fds,
                                void *userdata) {
        const LauncherResponse *resp = (const LauncherResponse *) answer;
        Child *child = userdata;

        if (resp->status < 0) {
                child_spawn_failed(child, resp->status, resp->message);
                return;
        }
        if (resp->result_case != PATCHPANEL__IPC__LAUNCHER_RESPONSE__RESULT_SPAWN || n_fds != 1 ||
            resp->spawn->pid <= 0) {
                child_spawn_failed(child, -EPROTO, "the launcher's answer is malformed");
                return;
        }
        child_spawned(child, resp->spawn->pid, TAKE_FD(fds[0]), /* reap= */ false);
}

int launcher_link_spawn(LauncherLink *l, ChildKind kind, int control, Child *child) {
        Patchpanel__Ipc__Spawn op = PATCHPANEL__IPC__SPAWN__INIT;
        LauncherRequest req = PATCHPANEL__IPC__LAUNCHER_REQUEST__INIT;

        op.kind = kind;
        req.op_case = PATCHPANEL__IPC__LAUNCHER_REQUEST__OP_SPAWN;
        req.spawn = &op;
        return child_call(l->child, &req.base, &control, 1, launcher_on_spawned, child);
}

pid_t launcher_link_pid(const LauncherLink *l) {
        return child_pid(l->child);
}

void launcher_link_stop(LauncherLink *l, uint64_t timeout_usec, void (*done)(void *userdata)) {
        child_stop(l->child, timeout_usec, done, l->userdata);
}

void launcher_link_info(const LauncherLink *l, ChildInfo *ret) {
        child_info(l->child, ret);
}
