/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pp-testchild: a forwarder that forwards nothing, for the tests of the child machinery
 * (launcher, supervision, restart, state replay). It is started by patchpanel-launcher like
 * any forwarder, sandboxes itself like one, keeps the link pairs the manager tells it and
 * reports them (and how many it was told) as its status. Built in test builds only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forwarder.h"
#include "list.h"
#include "log.h"
#include "options.h"

extern const char seccomp_policy_pp_testchild[];

#define LINKS_MAX 256

typedef struct TestChild {
        FwdRuntime *rt;
        ForwarderLink links[LINKS_MAX];
        char names[LINKS_MAX][2][16];
        size_t n_links;
        uint64_t adds, removes;
        Patchpanel__Ipc__ForwarderCounter counters[2];
        Patchpanel__Ipc__ForwarderCounter *counter_ptrs[2];
        ForwarderLink *link_ptrs[LINKS_MAX];
} TestChild;

static void on_link_add(const ForwarderLink *l, void *userdata) {
        TestChild *t = userdata;
        ForwarderLink *copy;

        t->adds++;
        if (t->n_links >= LINKS_MAX) {
                log_warning("Too many links, ignoring %s", l->guest);
                return;
        }
        copy = &t->links[t->n_links];
        *copy = *l;
        snprintf(t->names[t->n_links][0], sizeof t->names[0][0], "%s", l->guest);
        snprintf(t->names[t->n_links][1], sizeof t->names[0][1], "%s", l->uplink);
        copy->guest = t->names[t->n_links][0];
        copy->uplink = t->names[t->n_links][1];
        t->n_links++;
        log_debug("Serving %s behind %s", l->guest, l->uplink);
        fwd_runtime_status_changed(t->rt);
}

static void on_link_remove(const ForwarderLink *l, void *userdata) {
        TestChild *t = userdata;

        t->removes++;
        for (size_t i = 0; i < t->n_links; i++)
                if (strcmp(t->names[i][0], l->guest) == 0 && strcmp(t->names[i][1], l->uplink) == 0) {
                        /* Keep the order: the status lists links as they came. */
                        for (size_t k = i; k + 1 < t->n_links; k++) {
                                t->links[k] = t->links[k + 1];
                                memcpy(t->names[k], t->names[k + 1], sizeof t->names[k]);
                                t->links[k].guest = t->names[k][0];
                                t->links[k].uplink = t->names[k][1];
                        }
                        t->n_links--;
                        break;
                }
        fwd_runtime_status_changed(t->rt);
}

static void on_status(ForwarderStatus *st, void *userdata) {
        TestChild *t = userdata;

        for (size_t i = 0; i < t->n_links; i++)
                t->link_ptrs[i] = &t->links[i];
        st->links = t->link_ptrs;
        st->n_links = t->n_links;
        for (size_t i = 0; i < 2; i++) {
                patchpanel__ipc__forwarder_counter__init(&t->counters[i]);
                t->counters[i].link = (char *) "";
                t->counter_ptrs[i] = &t->counters[i];
        }
        t->counters[0].name = (char *) "link_adds";
        t->counters[0].value = t->adds;
        t->counters[1].name = (char *) "link_removes";
        t->counters[1].value = t->removes;
        st->counters = t->counter_ptrs;
        st->n_counters = 2;
}

static int on_setup(sd_event *e, FwdRuntime *rt, void *userdata) {
        TestChild *t = userdata;

        (void) e;
        t->rt = rt;
        return 0;
}

int main(int argc, char **argv) {
        static TestChild t;
        FwdOptions o = { .control_fd = -EBADF, .seccomp = SECCOMP_MODE_ENFORCE };
        const Option options[] = {
                FWD_OPTIONS_SUPERVISED(&o),
        };
        const OptionsSpec spec = {
                .usage = "pp-testchild --control-fd=FD [OPTIONS]",
                .description = "A forwarder that forwards nothing, for tests.",
                .options = options,
                .n_options = ELEMENTSOF(options),
        };
        const FwdSupervised f = {
                .kind = PATCHPANEL__IPC__CHILD_KIND__CHILD_KIND_TEST,
                .policy = seccomp_policy_pp_testchild,
                .cb = {
                        .link_add = on_link_add,
                        .link_remove = on_link_remove,
                        .status = on_status,
                        .userdata = &t,
                },
                .setup = on_setup,
        };
        int first;

        log_setup("pp-testchild");
        if (options_parse(&spec, argc, argv, &first) < 0 || first != argc || o.control_fd < 0)
                return EXIT_FAILURE;
        return fwd_main_supervised(&o, &f);
}
