/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "channel.h"
#include "ipc.h"
#include "list.h"

typedef struct Pending Pending;
struct Pending {
        uint64_t id;
        bool sent;
        ChannelReplyFn fn;
        void *userdata;
        LIST_FIELDS(Pending, pending);
};

/* A packed message waiting for room in the socket, with the fds it owns until sent. */
typedef struct Outgoing Outgoing;
struct Outgoing {
        uint8_t *buf;
        size_t len;
        int fds[IPC_FDS_MAX];
        size_t n_fds;
        Pending *pending; /* the request's answer record, or NULL */
        LIST_FIELDS(Outgoing, out);
};

struct Channel {
        unsigned n_ref; /* the owner's, and one per dispatch in progress */
        int fd;
        sd_event *event;
        sd_event_source *io;
        sd_event_source *dead_report; /* on_dead, from the loop, never from inside a call */
        const char *dead_why;
        ChannelConfig config;
        uint64_t next_id;
        /* Requests waiting for their answers, oldest first, and messages not yet written,
         * oldest first (both with O(1) append through their tails). */
        Pending *pending, *pending_tail;
        size_t n_pending;
        Outgoing *out, *out_tail;
        bool dead;
};

static const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d,
                                                unsigned number, const char *name,
                                                ProtobufCType type) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, number);

        if (!f || strcmp(f->name, name) != 0 || f->type != type ||
            f->label == PROTOBUF_C_LABEL_REPEATED)
                return NULL;
        return f;
}

static const ProtobufCFieldDescriptor *id_field(const ProtobufCMessageDescriptor *d) {
        return field_of(d, 1, "id", PROTOBUF_C_TYPE_UINT64);
}

uint64_t channel_message_id(const ProtobufCMessage *msg) {
        const ProtobufCFieldDescriptor *f = id_field(msg->descriptor);
        uint64_t v;

        if (!f)
                return 0;
        memcpy(&v, (const uint8_t *) msg + f->offset, sizeof v);
        return v;
}

static void message_set_id(ProtobufCMessage *msg, uint64_t id) {
        const ProtobufCFieldDescriptor *f = id_field(msg->descriptor);

        if (f)
                memcpy((uint8_t *) msg + f->offset, &id, sizeof id);
}

int32_t channel_message_status(const ProtobufCMessage *msg) {
        const ProtobufCFieldDescriptor *f = field_of(msg->descriptor, 2, "status",
                                                     PROTOBUF_C_TYPE_INT32);
        int32_t v;

        if (!f)
                return 0;
        memcpy(&v, (const uint8_t *) msg + f->offset, sizeof v);
        return v;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

static void outgoing_free(Outgoing *o) {
        close_fds(o->fds, o->n_fds);
        free(o->buf);
        free(o);
}

static void pending_unlink(Channel *c, Pending *p) {
        if (p == c->pending_tail)
                c->pending_tail = p->pending_prev;
        LIST_REMOVE(pending, c->pending, p);
        c->n_pending--;
}

static int channel_report_dead(sd_event_source *s, void *userdata) {
        Channel *c = userdata;

        (void) s;
        c->dead_report = sd_event_source_disable_unref(c->dead_report);
        if (c->config.on_dead)
                c->config.on_dead(c, c->dead_why, c->config.userdata);
        return 0;
}

/* Stop at once; tell the owner from the event loop, so that a send that breaks the channel
 * returns to its caller before the owner hears of it (and perhaps frees the channel). */
static void channel_die(Channel *c, const char *why) {
        if (c->dead)
                return;
        channel_close(c);
        c->dead_why = why;
        if (sd_event_add_defer(c->event, &c->dead_report, channel_report_dead, c) < 0 &&
            c->config.on_dead)
                /* Cannot defer (out of memory): report now rather than never. */
                c->config.on_dead(c, why, c->config.userdata);
}

static void channel_flush(Channel *c) {
        while (c->out) {
                Outgoing *o = c->out;
                int r = ipc_send_packed(c->fd, o->buf, o->len, o->fds, o->n_fds);
                if (r == -EAGAIN || r == -EINTR)
                        break;
                if (r < 0)
                        return channel_die(c, "cannot write to the peer");
                if (o->pending)
                        o->pending->sent = true;
                if (o == c->out_tail)
                        c->out_tail = NULL;
                LIST_REMOVE(out, c->out, o);
                outgoing_free(o);
        }
        if (sd_event_source_set_io_events(c->io, EPOLLIN | (c->out ? EPOLLOUT : 0)) < 0)
                channel_die(c, "cannot watch the socket");
}

/* An answer: to the oldest request when ordered, else to the one with its id. */
static Pending *channel_match(Channel *c, uint64_t id) {
        if (c->config.ordered)
                return c->pending && c->pending->sent && c->pending->id == id ? c->pending : NULL;
        LIST_FOREACH(pending, p, c->pending)
                if (p->id == id)
                        return p->sent ? p : NULL;
        return NULL;
}

static void channel_read(Channel *c) {
        for (;;) {
                ProtobufCMessage *msg = NULL;
                int fds[IPC_FDS_MAX];
                size_t n_fds = 0;
                uint64_t id;
                int r;

                r = ipc_recv(c->fd, c->config.recv, &msg, fds, c->config.max_fds, &n_fds);
                if (r == -EAGAIN || r == -EINTR)
                        return;
                if (r == 0 || r == -ECONNRESET)
                        return channel_die(c, "the peer closed its socket");
                if (r == -EPROTO)
                        return channel_die(c, "the peer sent unexpected fds");
                if (r < 0)
                        return channel_die(c, "the peer sent a bad message");

                id = channel_message_id(msg);
                if (id == 0 || !c->config.asking) {
                        if (c->config.on_message)
                                c->config.on_message(c, msg, fds, n_fds, c->config.userdata);
                } else {
                        Pending *p = channel_match(c, id);
                        if (!p) {
                                close_fds(fds, n_fds);
                                protobuf_c_message_free_unpacked(msg, NULL);
                                return channel_die(c, "the peer's answer matches no request");
                        }
                        /* Unlinked before the callback, which may send new requests. */
                        pending_unlink(c, p);
                        p->fn(msg, fds, n_fds, p->userdata);
                        free(p);
                }
                close_fds(fds, n_fds);
                protobuf_c_message_free_unpacked(msg, NULL);
                if (c->dead)
                        return;
        }
}

static void channel_unref(Channel *c) {
        if (--c->n_ref > 0)
                return;
        channel_close(c);
        sd_event_source_disable_unref(c->dead_report);
        sd_event_unref(c->event);
        free(c);
}

static int channel_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Channel *c = userdata;

        (void) s;
        (void) fd;
        /* A callback may free the channel (its owner goes): it lives until this returns. */
        c->n_ref++;
        if (revents & EPOLLOUT)
                channel_flush(c);
        if (!c->dead && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                channel_read(c);
        channel_unref(c);
        return 0;
}

int channel_new(sd_event *e, int fd, const ChannelConfig *config, Channel **ret) {
        _cleanup_(channel_freep) Channel *c = NULL;
        int r;

        if (!id_field(config->send) || !id_field(config->recv) || config->max_fds > IPC_FDS_MAX)
                return -EINVAL;
        if (config->asking && !field_of(config->recv, 2, "status", PROTOBUF_C_TYPE_INT32))
                return -EINVAL;
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                return -errno;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (Channel) { .n_ref = 1, .fd = -EBADF, .event = sd_event_ref(e), .config = *config,
                         .next_id = 1 };
        r = sd_event_add_io(e, &c->io, fd, EPOLLIN, channel_io, c);
        if (r < 0)
                return r;
        c->fd = fd;
        *ret = TAKE_PTR(c);
        return 0;
}

static void channel_drop_queues(Channel *c) {
        while (c->out) {
                Outgoing *o = c->out;
                LIST_REMOVE(out, c->out, o);
                outgoing_free(o);
        }
        c->out_tail = NULL;
        while (c->pending) {
                Pending *p = c->pending;
                pending_unlink(c, p);
                free(p);
        }
}

Channel *channel_free(Channel *c) {
        if (!c)
                return NULL;
        channel_close(c);
        channel_unref(c);
        return NULL;
}

void channel_close(Channel *c) {
        if (!c)
                return;
        c->dead = true;
        c->dead_report = sd_event_source_disable_unref(c->dead_report);
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        channel_drop_queues(c);
}

bool channel_is_open(const Channel *c) {
        return c && !c->dead;
}

size_t channel_n_pending(const Channel *c) {
        return c ? c->n_pending : 0;
}

/* Pack @msg into a new Outgoing at the tail of the queue and try to write. */
static int channel_enqueue(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds,
                           Pending *pending) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        Outgoing *o;

        if (len > IPC_MESSAGE_MAX)
                return -EMSGSIZE;
        /* Nothing to pack would read as the peer's close: a caller's mistake, not the
         * channel's end. */
        if (len == 0)
                return -EINVAL;
        o = calloc(1, sizeof *o);
        if (!o)
                return -ENOMEM;
        o->buf = malloc(len ?: 1);
        if (!o->buf) {
                free(o);
                return -ENOMEM;
        }
        o->len = protobuf_c_message_pack(msg, o->buf);
        if (n_fds > 0)
                memcpy(o->fds, fds, sizeof(int) * n_fds);
        o->n_fds = n_fds;
        o->pending = pending;
        o->out_prev = c->out_tail;
        if (c->out_tail)
                c->out_tail->out_next = o;
        else
                c->out = o;
        c->out_tail = o;
        channel_flush(c);
        return 0;
}

static int channel_check_send(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds) {
        if (c->dead || n_fds > IPC_FDS_MAX || msg->descriptor != c->config.send) {
                close_fds(fds, n_fds);
                return c->dead ? -ENOTCONN : -EINVAL;
        }
        return 0;
}

int channel_call(Channel *c, ProtobufCMessage *msg, int *fds, size_t n_fds, ChannelReplyFn fn,
                 void *userdata) {
        Pending *p;
        int r;

        r = channel_check_send(c, msg, fds, n_fds);
        if (r < 0)
                return r;
        if (!c->config.asking || !fn) {
                close_fds(fds, n_fds);
                return -EINVAL;
        }
        p = calloc(1, sizeof *p);
        if (!p) {
                close_fds(fds, n_fds);
                return -ENOMEM;
        }
        *p = (Pending) { .id = c->next_id++, .fn = fn, .userdata = userdata };
        message_set_id(msg, p->id);
        p->pending_prev = c->pending_tail;
        if (c->pending_tail)
                c->pending_tail->pending_next = p;
        else
                c->pending = p;
        c->pending_tail = p;
        c->n_pending++;

        r = channel_enqueue(c, msg, fds, n_fds, p);
        if (r < 0) {
                close_fds(fds, n_fds);
                pending_unlink(c, p);
                free(p);
                return r;
        }
        /* Queued, but the channel broke while writing: no answer will come. */
        return c->dead ? -ENOTCONN : 0;
}

int channel_send(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds) {
        int r;

        r = channel_check_send(c, msg, fds, n_fds);
        if (r < 0)
                return r;
        r = channel_enqueue(c, msg, fds, n_fds, NULL);
        if (r < 0) {
                close_fds(fds, n_fds);
                return r;
        }
        return c->dead ? -ENOTCONN : 0;
}
