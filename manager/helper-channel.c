/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "helper-channel.h"
#include "ipc.h"
#include "list.h"
#include "log.h"

typedef struct Pending Pending;
struct Pending {
        uint64_t id;
        HelperReplyFn fn;
        void *userdata;
        uint8_t *buf; /* packed request, until it has been sent */
        size_t len;
        int fds[IPC_FDS_MAX]; /* owned until sent */
        size_t n_fds;
        LIST_FIELDS(Pending, pending);
};

struct HelperChannel {
        int fd;
        sd_event_source *io;
        HelperDeadFn on_dead;
        HelperEventFn on_event;
        void *userdata;
        uint64_t next_id;
        /* FIFO: head is the oldest request (the next answer), tail the newest. */
        Pending *head, *tail;
        Pending *unsent; /* first request not yet written, or NULL */
        size_t n_pending;
        bool dead;
};

static void pending_close_fds(Pending *p) {
        for (size_t i = 0; i < p->n_fds; i++)
                safe_close(p->fds[i]);
        p->n_fds = 0;
}

static void pending_free(Pending *p) {
        pending_close_fds(p);
        free(p->buf);
        free(p);
}

static void channel_die(HelperChannel *c, const char *why) {
        if (c->dead)
                return;
        c->dead = true;
        (void) sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
        if (c->on_dead)
                c->on_dead(why, c->userdata);
}

static int channel_update_events(HelperChannel *c) {
        return sd_event_source_set_io_events(c->io, EPOLLIN | (c->unsent ? EPOLLOUT : 0));
}

static void channel_flush(HelperChannel *c) {
        while (c->unsent) {
                Pending *p = c->unsent;
                int r = ipc_send_packed(c->fd, p->buf, p->len, p->fds, p->n_fds);
                if (r == -EAGAIN || r == -EINTR)
                        break;
                if (r < 0) {
                        channel_die(c, "cannot write to the helper");
                        return;
                }
                free(p->buf);
                p->buf = NULL;
                pending_close_fds(p); /* the helper has its own copies now */
                c->unsent = p->pending_next;
        }
        if (channel_update_events(c) < 0)
                channel_die(c, "cannot watch the helper socket");
}

static void channel_read(HelperChannel *c) {
        for (;;) {
                _cleanup_(helper_response_freep) HelperResponse *resp = NULL;
                int r = ipc_recv(c->fd, &patchpanel__ipc__helper_response__descriptor,
                                 (ProtobufCMessage **) &resp, NULL, 0, NULL);
                if (r == -EAGAIN || r == -EINTR)
                        return;
                if (r == 0) {
                        channel_die(c, "the helper closed its socket");
                        return;
                }
                if (r < 0) {
                        log_error_errno(r, "Bad message from the helper: %m");
                        channel_die(c, "the helper sent a bad message");
                        return;
                }

                if (resp->id == 0) {
                        if (c->on_event)
                                c->on_event(resp, c->userdata);
                        if (c->dead)
                                return;
                        continue;
                }
                Pending *p = c->head;
                if (!p || p == c->unsent || p->id != resp->id) {
                        log_error("Answer %llu from the helper matches no request",
                                  (unsigned long long) resp->id);
                        channel_die(c, "the helper answered out of order");
                        return;
                }
                /* Unlink before the callback, which may queue new requests. */
                c->head = p->pending_next;
                if (c->head)
                        c->head->pending_prev = NULL;
                else
                        c->tail = NULL;
                c->n_pending--;
                p->fn(resp, p->userdata);
                pending_free(p);
                if (c->dead)
                        return;
        }
}

static int channel_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HelperChannel *c = userdata;

        (void) s;
        (void) fd;
        if (revents & EPOLLOUT)
                channel_flush(c);
        if (!c->dead && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                channel_read(c);
        return 0;
}

void helper_channel_set_event_handler(HelperChannel *c, HelperEventFn on_event) {
        c->on_event = on_event;
}

int helper_channel_new(sd_event *e, int fd, HelperDeadFn on_dead, void *userdata,
                       HelperChannel **ret) {
        _cleanup_(helper_channel_freep) HelperChannel *c = NULL;
        int r;

        /* Writes never block (ipc_send_packed() uses MSG_DONTWAIT); reads neither. */
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (HelperChannel) {
                .fd = fd,
                .on_dead = on_dead,
                .userdata = userdata,
                .next_id = 1,
        };
        r = sd_event_add_io(e, &c->io, fd, EPOLLIN, channel_io, c);
        if (r < 0) {
                c->fd = -EBADF; /* still the caller's on failure */
                return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

HelperChannel *helper_channel_free(HelperChannel *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        for (Pending *p = c->head, *n; p; p = n) {
                n = p->pending_next;
                pending_free(p);
        }
        safe_close(c->fd);
        free(c);
        return NULL;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

int helper_channel_call(HelperChannel *c, HelperRequest *req, int *fds, size_t n_fds,
                        HelperReplyFn fn, void *userdata) {
        Pending *p;
        size_t len;

        if (c->dead || n_fds > IPC_FDS_MAX) {
                close_fds(fds, n_fds);
                return c->dead ? -ENOTCONN : -EINVAL;
        }
        req->id = c->next_id++;
        len = protobuf_c_message_get_packed_size(&req->base);
        if (len > IPC_MESSAGE_MAX) {
                close_fds(fds, n_fds);
                return -EMSGSIZE;
        }

        p = calloc(1, sizeof *p);
        if (!p) {
                close_fds(fds, n_fds);
                return -ENOMEM;
        }
        p->buf = malloc(len ?: 1);
        if (!p->buf) {
                free(p);
                close_fds(fds, n_fds);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_fds; i++)
                p->fds[i] = fds[i];
        p->n_fds = n_fds;
        p->len = protobuf_c_message_pack(&req->base, p->buf);
        p->id = req->id;
        p->fn = fn;
        p->userdata = userdata;

        /* Append at the tail. */
        p->pending_prev = c->tail;
        if (c->tail)
                c->tail->pending_next = p;
        else
                c->head = p;
        c->tail = p;
        c->n_pending++;
        if (!c->unsent)
                c->unsent = p;

        channel_flush(c);
        /* Queued, but the channel broke while sending: the answer will never come. */
        return c->dead ? -ENOTCONN : 0;
}

void helper_channel_close(HelperChannel *c) {
        if (!c)
                return;
        c->dead = true;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
}

size_t helper_channel_n_pending(const HelperChannel *c) {
        return c->n_pending;
}
