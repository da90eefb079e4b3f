/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Messages between the processes of the suite: one protobuf-c message per SOCK_SEQPACKET
 * datagram, at most IPC_MESSAGE_MAX bytes, optional fds by SCM_RIGHTS. The receive side is
 * strict: a datagram cut short (MSG_TRUNC), cut-off control data (MSG_CTRUNC), more fds than
 * the caller allows, or bytes that do not decode are protocol errors, and any fds that came
 * with a bad datagram are closed.
 */

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <sys/types.h>

#define IPC_MESSAGE_MAX (64u * 1024u)
#define IPC_FDS_MAX 8u

/* A connected SOCK_SEQPACKET pair, both ends close-on-exec. */
int ipc_socketpair(int ret[static 2]);

/*
 * ipc_send() - send one message, without blocking (MSG_DONTWAIT) whatever the socket's
 * mode.
 * @fd: the socket
 * @msg: the message to pack
 * @fds: descriptors to attach (not closed), or NULL
 * @n_fds: how many, at most IPC_FDS_MAX
 *
 * Return: 0, -EMSGSIZE if the packed message exceeds IPC_MESSAGE_MAX, -EINVAL if it packs
 * to nothing (that would read as a close), -EAGAIN when the socket's buffer is full, or
 * another negative errno.
 */
int ipc_send(int fd, const ProtobufCMessage *msg, const int *fds, size_t n_fds);

/*
 * ipc_send_packed() - send bytes that are already packed (for send queues).
 * Return: as ipc_send().
 */
int ipc_send_packed(int fd, const void *buf, size_t len, const int *fds, size_t n_fds);

/*
 * ipc_recv() - receive and decode one message.
 * @fd: the socket
 * @desc: the expected message type
 * @ret: the decoded message; free with protobuf_c_message_free_unpacked()
 * @ret_fds: where received descriptors go (close-on-exec), or NULL if none are allowed
 * @max_fds: capacity of @ret_fds
 * @ret_n_fds: how many arrived
 *
 * Return: 1 with a message, 0 when the peer has closed, -EAGAIN when nothing is queued on a
 * non-blocking socket, -EMSGSIZE for a truncated datagram, -EPROTO for truncated control
 * data or unexpected fds, -EBADMSG if the bytes do not decode, or another negative errno.
 */
int ipc_recv(int fd, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **ret,
             int *ret_fds, size_t max_fds, size_t *ret_n_fds);
