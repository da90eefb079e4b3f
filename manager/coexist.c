/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coexist.h"
#include "log.h"

const char *foreign_drop_fix(const ForeignDrop *d, char *buf, size_t size) {
        /* Tables named filter in ip/ip6 are usually iptables-nft's: fix them with iptables. */
        bool iptables = strcmp(d->table, "filter") == 0 &&
                        (strcmp(d->family, "ip") == 0 || strcmp(d->family, "ip6") == 0);
        const char *tool = strcmp(d->family, "ip6") == 0 ? "ip6tables" : "iptables";

        if (strcmp(d->hook, "input") == 0) {
                if (iptables)
                        snprintf(buf, size, "ports opened by ACCESS rules stay closed: also accept "
                                 "them there, e.g. %s -I %s -p tcp --dport PORT -j ACCEPT", tool,
                                 d->chain);
                else
                        snprintf(buf, size, "ports opened by ACCESS rules stay closed: also accept "
                                 "them there, e.g. nft insert rule %s %s %s tcp dport PORT accept",
                                 d->family, d->table, d->chain);
                return buf;
        }
        /* Every connection of a guest carries the SNAT bit in its conntrack mark; inbound
         * port forwards are DNAT connections. */
        if (iptables)
                snprintf(buf, size, "guests' traffic is dropped: accept it there, e.g. %s -I %s "
                         "-m connmark --mark 0x1/0x1 -j ACCEPT; %s -I %s -m conntrack --ctstate "
                         "DNAT -j ACCEPT (with Docker, insert into DOCKER-USER instead)", tool,
                         d->chain, tool, d->chain);
        else
                snprintf(buf, size, "guests' traffic is dropped: accept it there, e.g. nft insert "
                         "rule %s %s %s ct mark and 0x1 == 0x1 accept; nft insert rule %s %s %s "
                         "ct status dnat accept", d->family, d->table, d->chain, d->family,
                         d->table, d->chain);
        return buf;
}

static void on_foreign_drops(Manager *m, const IpcForeignDrops *ev) {
        ForeignDrop *list = NULL;
        char fix[2048];
        size_t n = 0;

        if (ev->n_chains > FOREIGN_DROPS_MAX) {
                log_error("The helper reported %zu foreign drop policies, ignoring them",
                          ev->n_chains);
                return;
        }
        if (ev->n_chains > 0) {
                list = calloc(ev->n_chains, sizeof *list);
                if (!list) {
                        log_error("Out of memory for other tables' drop policies, ignoring them");
                        return;
                }
        }
        for (size_t i = 0; i < ev->n_chains; i++) {
                const IpcForeignChain *c = ev->chains[i];
                ForeignDrop *d = &list[n++];
                /* Escaped again: the helper is trusted no more than any peer. */
                foreign_drop_set(d, c->family, c->table, c->chain, c->hook, c->priority);
                log_warning("Table %s %s, chain %s drops by default at hook %s: %s", d->family,
                            d->table, d->chain, d->hook, foreign_drop_fix(d, fix, sizeof fix));
        }
        if (n == 0 && m->n_foreign_drops > 0)
                log_info("No other table drops guests' traffic by default any more");
        free(m->foreign_drops);
        m->foreign_drops = list;
        m->n_foreign_drops = n;
}

void manager_on_helper_event(const HelperResponse *ev, void *userdata) {
        Manager *m = userdata;

        switch (ev->result_case) {
        case PATCHPANEL__IPC__HELPER_RESPONSE__RESULT_FOREIGN_DROPS:
                on_foreign_drops(m, ev->foreign_drops);
                break;
        default:
                log_warning("Unknown event %d from the helper, ignoring", (int) ev->result_case);
        }
}
