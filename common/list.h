/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Intrusive doubly linked lists: a struct embeds LIST_FIELDS(type, name); the head is a
 * plain pointer. */

#define LIST_FIELDS(t, name) t *name##_next, *name##_prev

#define LIST_PREPEND(name, head, item)                                  \
        do {                                                            \
                typeof(*(head)) **_head = &(head), *_item = (item);     \
                if ((_item->name##_next = *_head))                      \
                        _item->name##_next->name##_prev = _item;        \
                _item->name##_prev = NULL;                              \
                *_head = _item;                                         \
        } while (0)

/* At the end: keeps the order items came in (walks the list; for short lists). */
#define LIST_APPEND(name, head, item)                                   \
        do {                                                            \
                typeof(*(head)) **_head = &(head), *_item = (item), *_t; \
                _item->name##_next = NULL;                              \
                if (!*_head) {                                          \
                        _item->name##_prev = NULL;                      \
                        *_head = _item;                                 \
                        break;                                          \
                }                                                       \
                for (_t = *_head; _t->name##_next; _t = _t->name##_next) \
                        ;                                               \
                _t->name##_next = _item;                                \
                _item->name##_prev = _t;                                \
        } while (0)

#define LIST_REMOVE(name, head, item)                                            \
        do {                                                                     \
                typeof(*(head)) **_head = &(head), *_item = (item);              \
                if (_item->name##_next)                                          \
                        _item->name##_next->name##_prev = _item->name##_prev;    \
                if (_item->name##_prev)                                          \
                        _item->name##_prev->name##_next = _item->name##_next;    \
                else                                                             \
                        *_head = _item->name##_next;                             \
                _item->name##_next = _item->name##_prev = NULL;                  \
        } while (0)

#define LIST_FOREACH(name, i, head) for (typeof(*(head)) *i = (head); i; i = i->name##_next)

/* Safe against removal of the current item. */
#define LIST_FOREACH_SAFE(name, i, n, head) \
        for (typeof(*(head)) *i = (head), *n = i ? i->name##_next : NULL; i; \
             i = n, n = i ? i->name##_next : NULL)
