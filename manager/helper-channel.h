/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The manager's end of the socket to patchpanel-helper. Requests are queued and sent
 * without ever blocking the event loop; the helper answers strictly in order, so pending
 * requests form a FIFO and each answer must carry the id at its head. An answer out of
 * order, an undecodable one, or the socket closing means the helper is gone or broken:
 * the channel reports it once through on_dead and stops. Answers with id 0 are events the
 * helper sends unasked, outside the FIFO.
 */

#include <stddef.h>
#include <systemd/sd-event.h>

#include "ipc-msg.h"

typedef struct HelperChannel HelperChannel;

/* Called with the helper's answer; resp is freed after the call returns. */
typedef void (*HelperReplyFn)(const HelperResponse *resp, void *userdata);
typedef void (*HelperDeadFn)(const char *why, void *userdata);
/* Called with an event the helper sent unasked (id 0); ev is freed after the call. */
typedef void (*HelperEventFn)(const HelperResponse *ev, void *userdata);

int helper_channel_new(sd_event *e, int fd, HelperDeadFn on_dead, void *userdata,
                       HelperChannel **ret);
HelperChannel *helper_channel_free(HelperChannel *c);
/* Where events go (same userdata as on_dead); without a handler they are dropped. */
void helper_channel_set_event_handler(HelperChannel *c, HelperEventFn on_event);
DEFINE_TRIVIAL_CLEANUP_FUNC(HelperChannel *, helper_channel_free);

/*
 * helper_channel_call() - send a request and have @fn called with its answer.
 * @req: the request; its id is assigned here
 * @fds: descriptors to send with it, taken over in every case (closed once sent)
 * @n_fds: how many
 *
 * Return: 0, or a negative errno if the request cannot be sent (the callback will then
 * never be called).
 */
int helper_channel_call(HelperChannel *c, HelperRequest *req, int *fds, size_t n_fds,
                        HelperReplyFn fn, void *userdata);
/* Close the socket, which ends the helper, without calling on_dead; callable from a reply
 * callback. Pending requests are dropped. */
void helper_channel_close(HelperChannel *c);
size_t helper_channel_n_pending(const HelperChannel *c);
