/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A channel between two processes of the suite over one SOCK_SEQPACKET socket, in an
 * sd-event loop, with the framing of ipc.c. It is typed by two protobuf message descriptors,
 * the envelope this end sends and the one it receives; both carry `uint64 id = 1`, and
 * answers also `int32 status = 2` (proto/ipc.proto says which envelope is which).
 *
 * One end asks (the manager): its messages with an id are requests, and each gets exactly
 * one answer, the peer's message with the same id; with `ordered` answers must come in the
 * order of the requests (the helper serves one at a time), otherwise in any order. The
 * other end answers. Either end may send events (id 0) at any time.
 *
 * Sending never blocks: what the socket cannot take now is queued, in order. A peer that
 * closes the socket, sends bytes that do not decode, an answer that matches no request, or
 * more fds than allowed, ends the channel: it stops, reports once through on_dead, and every
 * request still waiting is dropped without its callback. Library code: it does not log.
 */

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct Channel Channel;

/*
 * An answer to channel_call(). @fds came with it; the callback may take any of them
 * (setting the slot to -EBADF); the rest are closed after it returns, and so is @answer.
 */
typedef void (*ChannelReplyFn)(const ProtobufCMessage *answer, int *fds, size_t n_fds,
                               void *userdata);
/* An event, or on an answering end a request (answer it with channel_send()). Ownership of
 * @fds as for ChannelReplyFn. */
typedef void (*ChannelMessageFn)(Channel *c, const ProtobufCMessage *msg, int *fds,
                                 size_t n_fds, void *userdata);
/* The channel broke; @why says how, for the log. Called from the event loop, never from
 * inside a channel_*() call. Any callback may close or free the channel. */
typedef void (*ChannelDeadFn)(Channel *c, const char *why, void *userdata);

typedef struct ChannelConfig {
        const ProtobufCMessageDescriptor *send; /* the envelope this end sends */
        const ProtobufCMessageDescriptor *recv; /* and the one it receives */
        bool asking;     /* this end's messages with an id are requests */
        bool ordered;    /* answers must come in the order of the requests */
        size_t max_fds;  /* fds allowed with one received message */
        ChannelMessageFn on_message;
        ChannelDeadFn on_dead;
        void *userdata;
} ChannelConfig;

/*
 * channel_new() - watch @fd in @e.
 * @fd: a connected SOCK_SEQPACKET socket, taken over on success only
 * Return: 0, -EINVAL if an envelope lacks the id (or, for answers, the status) field.
 */
int channel_new(sd_event *e, int fd, const ChannelConfig *config, Channel **ret);
Channel *channel_free(Channel *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Channel *, channel_free);

/*
 * channel_call() - send a request; @fn gets its answer.
 * @msg: of the send envelope; its id is assigned here
 * @fds: sent with it and taken over in every case (closed once sent)
 *
 * Return: 0; -ENOTCONN if the channel is closed, -EMSGSIZE if @msg is too large, or
 * another negative errno. On failure @fn will never be called.
 */
int channel_call(Channel *c, ProtobufCMessage *msg, int *fds, size_t n_fds, ChannelReplyFn fn,
                 void *userdata);

/*
 * channel_send() - send an event (id 0) or, on an answering end, an answer (the id of its
 * request); fds as for channel_call().
 * Return: 0 or a negative errno as channel_call().
 */
int channel_send(Channel *c, const ProtobufCMessage *msg, int *fds, size_t n_fds);

/* Close the socket without reporting on_dead; requests waiting are dropped. Callable from
 * any callback; channel_free() is still needed. */
void channel_close(Channel *c);
bool channel_is_open(const Channel *c);
size_t channel_n_pending(const Channel *c);

/* The id and status of a received envelope (0 when the field is absent). */
uint64_t channel_message_id(const ProtobufCMessage *msg);
int32_t channel_message_status(const ProtobufCMessage *msg);
