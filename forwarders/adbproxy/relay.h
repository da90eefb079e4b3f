/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * The relay of adb-proxy: a table of connection pairs (a client accepted on the listener,
 * and the upstream connection to ARC's adbd made for it) and the state machine that moves
 * bytes between them, in one thread, for all of them. No sd-event and no listener here:
 * the relay owns an epoll set of its own, whose fd the caller watches (one source in the
 * caller's loop for every connection), and a caller that hands it accepted sockets and
 * calls relay_dispatch() and relay_expire(). Unit tests drive it with socketpairs and UNIX
 * sockets; the system calls that move data go through RelayIo, so a test can make splice()
 * refuse.
 *
 * Theory of operation, per connection:
 *   CONNECTING  the client is accepted and not read; the upstream socket connects without
 *               blocking, to each target in turn (the container's adbd socket, then TCP to
 *               ARC's address; or ARCVM's vsock), each failure moving to the next, until
 *               one connects, every one has failed, or the connect timeout passes;
 *   RELAYING    two flows, client -> upstream ("up") and upstream -> client ("down"), each
 *               moving bytes source -> pipe -> sink with splice() (zero-copy), or through a
 *               buffer with read()/write() where the kernel refuses splice on a socket.
 *               A flow reads its source only when its pipe is empty, so a sink that does
 *               not take bytes stops its source being read (back-pressure, per flow, never
 *               affecting another connection). Each flow moves at most `quantum` bytes a
 *               turn, so one busy client cannot keep the others waiting. A source's end of
 *               stream is passed on as shutdown(SHUT_WR) of the sink once the pipe is empty
 *               (half-close); when both flows have ended, the pair is closed;
 *   closed      any error on either side, the idle timeout (no byte moved either way), the
 *               connect timeout, or relay_close_all() close both sockets at once.
 *
 * Memory: an idle pair is one RelayConn (~140 bytes of heap) and two epoll registrations in the
 * kernel. Pipes are borrowed only while a flow has bytes in flight and go back to a small
 * pool of spare ones as soon as the flow's pipe is empty, so idle connections hold no pipe;
 * the worst case is six fds a pair (two sockets, two pipes), which is what the caller's fd
 * budget must allow for (relay_fd_budget()).
 */

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

typedef struct Relay Relay;
typedef struct RelayConn RelayConn;

typedef enum RelayCloseReason {
        RELAY_CLOSE_DONE,            /* both flows ended: each side closed its half */
        RELAY_CLOSE_IO_ERROR,        /* a read or write failed (a reset, a broken pipe) */
        RELAY_CLOSE_UPSTREAM_FAILED, /* no upstream target accepted the connection */
        RELAY_CLOSE_CONNECT_TIMEOUT, /* the upstream connection did not complete in time */
        RELAY_CLOSE_IDLE,            /* no byte moved for the idle timeout */
        RELAY_CLOSE_STOPPED,         /* relay_close_all(): ARC stopped, or adb-proxy exits */
        RELAY_CLOSE_RESOURCES,       /* no pipe or buffer could be had */
        _RELAY_CLOSE_REASON_MAX,
        _RELAY_CLOSE_REASON_INVALID = -EINVAL,
} RelayCloseReason;

const char *relay_close_reason_to_string(RelayCloseReason r);

typedef enum RelayTargetKind {
        RELAY_TARGET_UNIX,    /* the adbd socket of the ARC container */
        RELAY_TARGET_TCP,     /* ARC's address, port 5555 */
        RELAY_TARGET_VSOCK,   /* ARCVM: its cid, port 5555 */
        _RELAY_TARGET_KIND_MAX,
        _RELAY_TARGET_KIND_INVALID = -EINVAL,
} RelayTargetKind;

const char *relay_target_kind_to_string(RelayTargetKind k);

typedef struct RelayTarget {
        RelayTargetKind kind;
        char path[sizeof(((struct sockaddr_un *) NULL)->sun_path)]; /* UNIX */
        struct in_addr addr;                                          /* TCP */
        uint32_t cid;                                                 /* VSOCK */
        uint16_t port;                                                /* TCP, VSOCK */
} RelayTarget;

/* Where new connections go, tried in order. */
#define RELAY_TARGETS_MAX 2
typedef struct RelayUpstream {
        RelayTarget targets[RELAY_TARGETS_MAX];
        size_t n_targets;
} RelayUpstream;

/* "unix:/run/arc/adb/adb.sock", "tcp:100.115.92.2:5555", "vsock:3:5555". */
const char *relay_target_to_string(const RelayTarget *t, char *buf, size_t size);

typedef struct RelayConfig {
        unsigned max_conns;            /* more are refused (accepted, then closed) */
        uint64_t idle_timeout_usec;    /* 0: none */
        uint64_t connect_timeout_usec; /* for the upstream connection; 0: none */
        size_t pipe_size;              /* F_SETPIPE_SZ of each pipe; 0: the kernel's */
        size_t quantum;                /* bytes a flow moves in one turn, at least */
        unsigned spare_pipes;          /* empty pipes kept for reuse */
} RelayConfig;

#define RELAY_DEFAULT_MAX_CONNS 512u
#define RELAY_DEFAULT_IDLE_TIMEOUT_USEC (3600ull * 1000 * 1000)
#define RELAY_DEFAULT_CONNECT_TIMEOUT_USEC (10ull * 1000 * 1000)
/* The largest pipe an unprivileged process may ask for (fs.pipe-max-size): fewer splice()
 * calls a megabyte; past the user's pipe quota a pipe keeps the kernel's size. */
#define RELAY_DEFAULT_PIPE_SIZE (1024u * 1024)
#define RELAY_DEFAULT_QUANTUM (2048u * 1024)
#define RELAY_DEFAULT_SPARE_PIPES 16u
/* The most file descriptors one pair can hold: two sockets and a pipe per flow. */
#define RELAY_FDS_PER_CONN 6u

extern const RelayConfig relay_config_default;

/* What the relay has done; bytes count what reached a sink. */
typedef struct RelayCounters {
        uint64_t open;              /* pairs now (connecting or relaying) */
        uint64_t total;             /* accepted and given an upstream attempt */
        uint64_t refused;           /* accepted over the connection cap, closed at once */
        uint64_t upstream_failures; /* closed because no upstream target answered */
        uint64_t idle_closed;       /* closed by the idle timeout */
        uint64_t bytes_up;          /* client -> ARC */
        uint64_t bytes_down;        /* ARC -> client */
        uint64_t copy_fallbacks;    /* flows that moved to read/write: splice was refused */
} RelayCounters;

/* The system calls that move bytes, the real ones unless a test gives its own. */
typedef struct RelayIo {
        ssize_t (*splice)(int fd_in, int fd_out, size_t len, unsigned flags);
        ssize_t (*read)(int fd, void *buf, size_t len);
        ssize_t (*write)(int fd, const void *buf, size_t len);
        int (*shutdown_write)(int fd);
        int (*pipe)(int fds[2], size_t size); /* O_NONBLOCK|O_CLOEXEC, sized if size > 0 */
} RelayIo;

/* What a closed pair was, for the caller's log. */
typedef struct RelayConnInfo {
        uint64_t id;
        uint64_t bytes_up, bytes_down;
        RelayTargetKind target;     /* the one it reached, or the last one tried */
        int error;                  /* the errno behind IO_ERROR or UPSTREAM_FAILED */
} RelayConnInfo;

typedef struct RelayCallbacks {
        void (*closed)(const RelayConnInfo *info, RelayCloseReason reason, void *userdata);
        /* An upstream target refused or failed (the next one is tried, if any). */
        void (*target_failed)(const RelayTarget *t, int error, void *userdata);
        void *userdata;
} RelayCallbacks;

/*
 * relay_new() - an empty relay with its epoll set.
 * @config: limits and sizes (NULL: relay_config_default)
 * @io: the data-moving system calls (NULL: the real ones)
 * @cb: what the caller hears of (may be NULL)
 * Return: 0, or a negative errno.
 */
int relay_new(const RelayConfig *config, const RelayIo *io, const RelayCallbacks *cb,
              Relay **ret);
/* Close every pair (without calling back) and free everything. NULL is fine. */
Relay *relay_free(Relay *r);

/*
 * relay_set_config() - new limits: they apply to what comes next (a lower cap closes no
 * pair; the idle timeout applies at the next relay_expire()). A quantum of 0 keeps the
 * default; a pipe size of 0 leaves the kernel's.
 */
void relay_set_config(Relay *r, const RelayConfig *config);
const RelayConfig *relay_get_config(const Relay *r);

/* Where the pairs made from now on connect to (no target: none can be made). */
void relay_set_upstream(Relay *r, const RelayUpstream *u);

/*
 * relay_fd_budget() - the file descriptors @max_conns pairs can hold at most, the spare
 * pipes and the relay's epoll fd included.
 */
uint64_t relay_fd_budget(const RelayConfig *config);

/* The fd the caller watches for EPOLLIN; then it calls relay_dispatch(). */
int relay_fd(const Relay *r);

/*
 * relay_add() - a pair for a connection the caller accepted: it starts connecting
 * upstream at once.
 * @client_fd: a connected stream socket, taken over in every case
 * @now: CLOCK_MONOTONIC, usec
 * Return: 0 (even if the upstream attempt failed at once: the pair is then already
 * closed and counted), -EBUSY at the connection cap (counted as refused), -ENOENT with
 * no upstream, or another negative errno.
 */
int relay_add(Relay *r, int client_fd, uint64_t now);

/*
 * relay_dispatch() - handle what the epoll set reports now (at most a batch of events:
 * the caller's loop calls again while relay_fd() stays readable).
 * Return: the number of events handled, or a negative errno from epoll_wait().
 */
int relay_dispatch(Relay *r, uint64_t now);

/*
 * relay_expire() - close pairs whose upstream did not connect in time and pairs idle for
 * the idle timeout.
 * Return: the number closed.
 */
unsigned relay_expire(Relay *r, uint64_t now);

/* When relay_expire() has something to do next (UINT64_MAX: nothing). */
uint64_t relay_next_deadline(const Relay *r);

/* Close every pair (RELAY_CLOSE_STOPPED), e.g. when ARC stops. */
void relay_close_all(Relay *r);

const RelayCounters *relay_counters(const Relay *r);
/* Spare pipes kept now, and pipes lent to flows. */
void relay_pipes(const Relay *r, unsigned *ret_spare, unsigned *ret_lent);
/* Whether any pair exists (connecting or relaying). */
bool relay_is_empty(const Relay *r);
