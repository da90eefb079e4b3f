/* SPDX-License-Identifier: BSD-3-Clause */
#include "foreign-drop.h"
#include "proto-check.h"

void foreign_drop_set(ForeignDrop *d, const char *family, const char *table, const char *chain,
                      const char *hook, int priority) {
        str_escape(family, sizeof d->family, d->family, sizeof d->family);
        str_escape(table, sizeof d->table, d->table, sizeof d->table);
        str_escape(chain, sizeof d->chain, d->chain, sizeof d->chain);
        str_escape(hook, sizeof d->hook, d->hook, sizeof d->hook);
        d->priority = priority;
}
