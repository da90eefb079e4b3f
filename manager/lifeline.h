/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * A ConnectNamespace client hands the daemon a lifeline: an fd whose other end it keeps,
 * so that when the client goes the fd reports a hang-up (EPOLLHUP or EPOLLERR, the events
 * epoll always reports) and the namespace is disconnected. An fd that cannot report one
 * would hold the namespace's subnet until the daemon stops, so it is refused when the call
 * arrives:
 *
 *   accepted   a pipe's or FIFO's read end that has a writer, a write end (POLLERR once
 *              no reader is left), a connected AF_UNIX stream or seqpacket socket
 *              (POLLHUP once its peer is gone)
 *   refused    a pipe or FIFO open for reading and writing (it is its own writer), a FIFO
 *              without a writer (opened non-blocking, it reports nothing until a writer
 *              has come and gone), a listening or unconnected socket, a datagram socket,
 *              any socket but AF_UNIX (a TCP peer's close is a FIN, which is no hang-up;
 *              netlink, packet and UDP sockets have no peer), anything else, and an fd
 *              whose other end is already closed
 */

#include "errbuf.h"

/*
 * lifeline_check() - whether @fd can tell the daemon that its client is gone.
 * @fd: the lifeline, as received
 * @err: the reason for a refusal
 *
 * The type is told by calls only pipes and sockets answer, never by fstat(): a caller's
 * FUSE file could stall that, and the daemon with it. The checks change nothing the caller
 * could see, except that probing a FIFO for a writer may consume one byte written in the
 * same instant (a lifeline's bytes mean nothing).
 *
 * Return: 0, or -EINVAL.
 */
int lifeline_check(int fd, ErrBuf *err);
