/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "macro.h"
#include "relay.h"

/* Events handled in one relay_dispatch(). */
#define RELAY_BATCH 64
/* The buffer of a flow that cannot splice. */
#define RELAY_COPY_BUF_SIZE (64u * 1024)
#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

enum { END_CLIENT, END_UPSTREAM, _END_MAX };
/* A flow is named for its source: FLOW_UP reads the client, FLOW_DOWN reads upstream. */
enum { FLOW_UP = END_CLIENT, FLOW_DOWN = END_UPSTREAM };

typedef enum ConnState {
        CONN_CONNECTING,
        CONN_RELAYING,
        CONN_CLOSED,
} ConnState;

typedef struct RelayPipe RelayPipe;
struct RelayPipe {
        int fds[2];
        int size;             /* its capacity, F_GETPIPE_SZ */
        RelayPipe *next;      /* among the spare ones */
};

typedef struct RelayBuf {
        size_t off;           /* the next byte to write */
        uint8_t data[];
} RelayBuf;

/* One direction of a pair: source -> pipe (or buffer) -> sink. */
typedef struct Flow {
        RelayPipe *pipe;      /* splice: lent while bytes are in flight */
        RelayBuf *buf;        /* copy: allocated while bytes are in flight */
        uint32_t pending;     /* bytes read from the source and not yet written */
        bool copy : 1;        /* splice was refused: read()/write() through buf */
        bool eof : 1;         /* the source ended */
        bool shut : 1;        /* ... and the sink heard of it */
        bool blocked : 1;     /* the sink took less than was pending: wait for it */
} Flow;

struct RelayConn {
        Relay *relay;
        RelayConn *prev, *next; /* in connecting or active, oldest first; next in dead */
        uint64_t since;         /* connecting: when it started; relaying: the last progress */
        uint64_t id;
        uint64_t bytes[_END_MAX]; /* per flow */
        int fd[_END_MAX];
        uint32_t events[_END_MAX]; /* registered with epoll; 0: not in the set */
        Flow flow[_END_MAX];
        uint8_t state;          /* ConnState */
        uint8_t attempt;        /* the upstream target being tried */
};

typedef struct ConnList {
        RelayConn *head, *tail;
} ConnList;

struct Relay {
        int epoll_fd;
        RelayConfig config;
        RelayIo io;
        RelayCallbacks cb;
        RelayUpstream upstream;
        ConnList connecting;  /* by start */
        ConnList active;      /* by last progress */
        RelayConn *dead;      /* closed while dispatching: freed after the batch */
        bool dispatching;
        RelayPipe *spare;
        unsigned n_spare, n_lent;
        uint64_t next_id;
        RelayCounters counters;
};

const RelayConfig relay_config_default = {
        .max_conns = RELAY_DEFAULT_MAX_CONNS,
        .idle_timeout_usec = RELAY_DEFAULT_IDLE_TIMEOUT_USEC,
        .connect_timeout_usec = RELAY_DEFAULT_CONNECT_TIMEOUT_USEC,
        .pipe_size = RELAY_DEFAULT_PIPE_SIZE,
        .quantum = RELAY_DEFAULT_QUANTUM,
        .spare_pipes = RELAY_DEFAULT_SPARE_PIPES,
};

static const char *const close_reasons[_RELAY_CLOSE_REASON_MAX] = {
        [RELAY_CLOSE_DONE] = "done",
        [RELAY_CLOSE_IO_ERROR] = "I/O error",
        [RELAY_CLOSE_UPSTREAM_FAILED] = "upstream unreachable",
        [RELAY_CLOSE_CONNECT_TIMEOUT] = "upstream connect timeout",
        [RELAY_CLOSE_IDLE] = "idle timeout",
        [RELAY_CLOSE_STOPPED] = "stopped",
        [RELAY_CLOSE_RESOURCES] = "out of resources",
};

const char *relay_close_reason_to_string(RelayCloseReason r) {
        if (r < 0 || r >= _RELAY_CLOSE_REASON_MAX)
                return NULL;
        return close_reasons[r];
}

static const char *const target_kinds[_RELAY_TARGET_KIND_MAX] = {
        [RELAY_TARGET_UNIX] = "unix",
        [RELAY_TARGET_TCP] = "tcp",
        [RELAY_TARGET_VSOCK] = "vsock",
};

const char *relay_target_kind_to_string(RelayTargetKind k) {
        if (k < 0 || k >= _RELAY_TARGET_KIND_MAX)
                return NULL;
        return target_kinds[k];
}

const char *relay_target_to_string(const RelayTarget *t, char *buf, size_t size) {
        char a[INET_ADDRSTRLEN];

        switch (t->kind) {
        case RELAY_TARGET_UNIX:
                snprintf(buf, size, "unix:%s", t->path);
                break;
        case RELAY_TARGET_TCP:
                snprintf(buf, size, "tcp:%s:%u", inet_ntop(AF_INET, &t->addr, a, sizeof a) ?: "?",
                         t->port);
                break;
        case RELAY_TARGET_VSOCK:
                snprintf(buf, size, "vsock:%u:%u", t->cid, t->port);
                break;
        default:
                snprintf(buf, size, "invalid");
        }
        return buf;
}

/* ---- the real system calls ------------------------------------------------------------ */

static ssize_t sys_splice(int fd_in, int fd_out, size_t len, unsigned flags) {
        return splice(fd_in, NULL, fd_out, NULL, len, flags);
}

static ssize_t sys_read(int fd, void *buf, size_t len) {
        return read(fd, buf, len);
}

static ssize_t sys_write(int fd, const void *buf, size_t len) {
        return write(fd, buf, len);
}

static int sys_shutdown_write(int fd) {
        return shutdown(fd, SHUT_WR);
}

static int sys_pipe(int fds[2], size_t size) {
        int r;

        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
                return -errno;
        /* Refused past the user's pipe quota: the default size will do. */
        if (size > 0 && size <= INT32_MAX)
                (void) fcntl(fds[0], F_SETPIPE_SZ, (int) size);
        r = fcntl(fds[0], F_GETPIPE_SZ);
        if (r <= 0) {
                r = r < 0 ? -errno : -EIO;
                safe_close(fds[0]);
                safe_close(fds[1]);
                return r;
        }
        return r;
}

static const RelayIo relay_io_default = {
        .splice = sys_splice,
        .read = sys_read,
        .write = sys_write,
        .shutdown_write = sys_shutdown_write,
        .pipe = sys_pipe,
};

/* ---- lists, pipes, buffers -------------------------------------------------------------- */

static void list_append(ConnList *l, RelayConn *c) {
        c->next = NULL;
        c->prev = l->tail;
        if (l->tail)
                l->tail->next = c;
        else
                l->head = c;
        l->tail = c;
}

static void list_remove(ConnList *l, RelayConn *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                l->head = c->next;
        if (c->next)
                c->next->prev = c->prev;
        else
                l->tail = c->prev;
        c->prev = c->next = NULL;
}

static ConnList *conn_list(Relay *r, const RelayConn *c) {
        return c->state == CONN_CONNECTING ? &r->connecting : &r->active;
}

static void pipe_close(RelayPipe *p) {
        safe_close(p->fds[0]);
        safe_close(p->fds[1]);
        free(p);
}

static int pipe_get(Relay *r, RelayPipe **ret) {
        RelayPipe *p = r->spare;
        int size;

        if (p) {
                r->spare = p->next;
                r->n_spare--;
        } else {
                p = malloc(sizeof *p);
                if (!p)
                        return -ENOMEM;
                size = r->io.pipe(p->fds, r->config.pipe_size);
                if (size < 0) {
                        free(p);
                        return size;
                }
                p->size = size;
        }
        p->next = NULL;
        r->n_lent++;
        *ret = p;
        return 0;
}

/* An empty pipe goes back to the spares (or is closed when there are enough). */
static void pipe_put(Relay *r, RelayPipe *p, bool empty) {
        r->n_lent--;
        if (!empty || r->n_spare >= r->config.spare_pipes) {
                pipe_close(p);
                return;
        }
        p->next = r->spare;
        r->spare = p;
        r->n_spare++;
}

/* What a flow holds, given back once nothing is pending (or at close, whatever it holds). */
static void flow_release(Relay *r, Flow *f) {
        if (f->pipe) {
                pipe_put(r, f->pipe, f->pending == 0);
                f->pipe = NULL;
        }
        free(f->buf);
        f->buf = NULL;
        f->pending = 0;
}

static int flow_hold(Relay *r, Flow *f) {
        if (f->copy) {
                if (!f->buf) {
                        f->buf = malloc(sizeof *f->buf + RELAY_COPY_BUF_SIZE);
                        if (!f->buf)
                                return -ENOMEM;
                }
                f->buf->off = 0;
                return 0;
        }
        return f->pipe ? 0 : pipe_get(r, &f->pipe);
}

/* ---- relay ---------------------------------------------------------------------------- */

static void pipes_drop_spares(Relay *r, unsigned keep) {
        while (r->n_spare > keep) {
                RelayPipe *p = r->spare;
                r->spare = p->next;
                r->n_spare--;
                pipe_close(p);
        }
}

static void relay_apply_config(Relay *r, const RelayConfig *config) {
        r->config = *config;
        if (r->config.quantum == 0)
                r->config.quantum = RELAY_DEFAULT_QUANTUM;
        pipes_drop_spares(r, r->config.spare_pipes);
}

int relay_new(const RelayConfig *config, const RelayIo *io, const RelayCallbacks *cb,
              Relay **ret) {
        Relay *r = calloc(1, sizeof *r);

        if (!r)
                return -ENOMEM;
        r->io = io ? *io : relay_io_default;
        if (cb)
                r->cb = *cb;
        relay_apply_config(r, config ?: &relay_config_default);
        r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (r->epoll_fd < 0) {
                int e = -errno;
                free(r);
                return e;
        }
        *ret = r;
        return 0;
}

static void conn_free_all(Relay *r);

Relay *relay_free(Relay *r) {
        if (!r)
                return NULL;
        r->cb = (RelayCallbacks) {};
        relay_close_all(r);
        conn_free_all(r);
        pipes_drop_spares(r, 0);
        safe_close(r->epoll_fd);
        free(r);
        return NULL;
}

void relay_set_config(Relay *r, const RelayConfig *config) {
        relay_apply_config(r, config);
}

const RelayConfig *relay_get_config(const Relay *r) {
        return &r->config;
}

void relay_set_upstream(Relay *r, const RelayUpstream *u) {
        r->upstream = (RelayUpstream) {};
        if (u && u->n_targets <= RELAY_TARGETS_MAX)
                r->upstream = *u;
}

uint64_t relay_fd_budget(const RelayConfig *config) {
        return (uint64_t) config->max_conns * RELAY_FDS_PER_CONN +
               (uint64_t) config->spare_pipes * 2 + 1;
}

int relay_fd(const Relay *r) {
        return r->epoll_fd;
}

const RelayCounters *relay_counters(const Relay *r) {
        return &r->counters;
}

void relay_pipes(const Relay *r, unsigned *ret_spare, unsigned *ret_lent) {
        *ret_spare = r->n_spare;
        *ret_lent = r->n_lent;
}

bool relay_is_empty(const Relay *r) {
        return !r->connecting.head && !r->active.head;
}

/* ---- one pair --------------------------------------------------------------------------- */

static void conn_free_all(Relay *r) {
        while (r->dead) {
                RelayConn *c = r->dead;
                r->dead = c->next;
                free(c);
        }
}

static void conn_close(RelayConn *c, RelayCloseReason why, int error) {
        Relay *r = c->relay;
        RelayConnInfo info = {
                .id = c->id,
                .bytes_up = c->bytes[FLOW_UP],
                .bytes_down = c->bytes[FLOW_DOWN],
                .target = c->attempt < r->upstream.n_targets ? r->upstream.targets[c->attempt].kind
                                                             : _RELAY_TARGET_KIND_INVALID,
                .error = error,
        };

        for (int e = 0; e < _END_MAX; e++) {
                c->fd[e] = safe_close(c->fd[e]);
                c->events[e] = 0;
                flow_release(r, &c->flow[e]);
        }
        list_remove(conn_list(r, c), c);
        c->state = CONN_CLOSED;
        r->counters.open--;
        /* The spares serve busy times: with no pair left, the fds go back too. */
        if (r->counters.open == 0)
                pipes_drop_spares(r, 0);
        if (why == RELAY_CLOSE_IDLE)
                r->counters.idle_closed++;
        if (why == RELAY_CLOSE_UPSTREAM_FAILED || why == RELAY_CLOSE_CONNECT_TIMEOUT)
                r->counters.upstream_failures++;
        /* An event of this batch may still name it: it goes after the batch. */
        c->next = r->dead;
        r->dead = c;
        if (!r->dispatching)
                conn_free_all(r);
        if (r->cb.closed)
                r->cb.closed(&info, why, r->cb.userdata);
}

/* What end @e must be watched for now. */
static uint32_t conn_wanted(const RelayConn *c, int e) {
        const Flow *from = &c->flow[e], *into = &c->flow[!e];
        uint32_t ev = 0;

        if (c->state == CONN_CONNECTING)
                return e == END_UPSTREAM ? EPOLLOUT : 0;
        /* A flow reads its source only once its pipe is empty. */
        if (!from->eof && from->pending == 0)
                ev |= EPOLLIN;
        if (into->pending > 0 && into->blocked)
                ev |= EPOLLOUT;
        /* Read to its end but still written to: only its hang-up matters (its peer is
         * gone, nothing written to it can arrive), reported once. */
        if (ev == 0 && from->eof && !into->shut)
                ev = EPOLLET;
        return ev;
}

/* Bring the epoll set in step with conn_wanted(). An end that wants nothing is out of the
 * set, so that a hang-up it cannot act on yet does not wake the loop over and over. */
static int conn_watch(RelayConn *c) {
        for (int e = 0; e < _END_MAX; e++) {
                uint32_t want = c->fd[e] >= 0 ? conn_wanted(c, e) : 0;
                struct epoll_event ev = { .events = want,
                                          .data.u64 = (uint64_t) (uintptr_t) c | (uint64_t) e };
                int op;

                if (want == c->events[e])
                        continue;
                op = want == 0 ? EPOLL_CTL_DEL : c->events[e] == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
                if (epoll_ctl(c->relay->epoll_fd, op, c->fd[e], &ev) < 0)
                        return -errno;
                c->events[e] = want;
        }
        return 0;
}

static void conn_touch(RelayConn *c, uint64_t now) {
        Relay *r = c->relay;

        c->since = now;
        if (r->active.tail != c) {
                list_remove(&r->active, c);
                list_append(&r->active, c);
        }
}

/* The flow cannot splice: carry on through a buffer, with what is in its pipe moved there
 * first (a pipe always reads). */
static int flow_to_copy(Relay *r, Flow *f) {
        RelayBuf *b;
        size_t got = 0;

        /* The pipe may hold more than a copy buffer takes in one read (a pipe of 1 MiB). */
        b = malloc(sizeof *b + (f->pending > RELAY_COPY_BUF_SIZE ? f->pending
                                                                   : RELAY_COPY_BUF_SIZE));
        if (!b)
                return -ENOMEM;
        b->off = 0;
        while (f->pipe && got < f->pending) {
                ssize_t n = r->io.read(f->pipe->fds[0], b->data + got, f->pending - got);
                if (n <= 0) {
                        free(b);
                        return n < 0 ? -errno : -EIO;
                }
                got += (size_t) n;
        }
        if (f->pipe) {
                pipe_put(r, f->pipe, true);
                f->pipe = NULL;
        }
        f->buf = b;
        f->copy = true;
        r->counters.copy_fallbacks++;
        return 0;
}

static ssize_t flow_write(Relay *r, Flow *f, int sink) {
        if (f->copy)
                return r->io.write(sink, f->buf->data + f->buf->off, f->pending);
        return r->io.splice(f->pipe->fds[0], sink, f->pending, SPLICE_FLAGS);
}

static ssize_t flow_read(Relay *r, Flow *f, int source) {
        if (f->copy)
                return r->io.read(source, f->buf->data, RELAY_COPY_BUF_SIZE);
        return r->io.splice(source, f->pipe->fds[1], (size_t) f->pipe->size, SPLICE_FLAGS);
}

/* What a failed move of @f (a read or a write, spliced or copied; not EAGAIN, which each
 * side handles its own way) means, @error its errno: interrupted, or a splice the kernel
 * refused for this pair of fds (the flow carries on copying), is worth another try.
 * Return: 1 try again, or a negative errno (the pair must close). */
static int flow_move_failed(Relay *r, Flow *f, int error) {
        int k;

        if (error == EINTR)
                return 1;
        if (error == EINVAL && !f->copy) {
                k = flow_to_copy(r, f);
                if (k < 0)
                        return k;
                return 1;
        }
        return -error;
}

/* Whether TCP socket @fd's next byte is urgent data (a client's send(MSG_OOB)). splice()
 * stops in front of it with EAGAIN while epoll keeps reporting the socket readable; only a
 * read() goes past (it skips the byte). Not a TCP socket: false. */
static bool at_urgent_mark(int fd) {
        int at = 0;
        return ioctl(fd, SIOCATMARK, &at) == 0 && at;
}

/*
 * Move bytes of flow @i until its source has nothing, its sink takes nothing, it ended,
 * or a quantum has passed. Return: the bytes written to the sink, or a negative errno
 * (the pair must close; -ENOMEM: no pipe or buffer).
 */
static ssize_t conn_pump(RelayConn *c, int i) {
        Relay *r = c->relay;
        Flow *f = &c->flow[i];
        int source = c->fd[i], sink = c->fd[!i];
        size_t moved = 0;
        ssize_t n;
        int k;

        for (;;) {
                if (f->pending > 0) {
                        n = flow_write(r, f, sink);
                        if (n < 0) {
                                if (errno == EAGAIN) {
                                        f->blocked = true;
                                        break;
                                }
                                k = flow_move_failed(r, f, errno);
                                if (k > 0)
                                        continue;
                                return k;
                        }
                        if (n == 0 || (size_t) n > f->pending)
                                return -EIO;
                        f->pending -= (uint32_t) n;
                        if (f->copy)
                                f->buf->off += (size_t) n;
                        f->blocked = false;
                        moved += (size_t) n;
                        c->bytes[i] += (uint64_t) n;
                        if (i == FLOW_UP)
                                r->counters.bytes_up += (uint64_t) n;
                        else
                                r->counters.bytes_down += (uint64_t) n;
                        continue;
                }
                /* Empty: give back what the flow holds, so that an idle pair holds nothing. */
                if (f->eof) {
                        flow_release(r, f);
                        if (!f->shut) {
                                /* The peer may be gone already: what matters is that
                                 * nothing more is coming. */
                                (void) r->io.shutdown_write(sink);
                                f->shut = true;
                        }
                        break;
                }
                if (moved >= r->config.quantum) {
                        flow_release(r, f);
                        break;
                }
                k = flow_hold(r, f);
                if (k < 0)
                        return k;
                n = flow_read(r, f, source);
                if (n > 0) {
                        if ((size_t) n > UINT32_MAX)
                                return -EIO;
                        f->pending = (uint32_t) n;
                        continue;
                }
                if (n == 0) {
                        f->eof = true;
                        continue;
                }
                /* A turn that moved nothing (so read nothing either: a read comes only once
                 * what the last one got is written), woken for a source that gives nothing:
                 * urgent data blocks splice for good, so the flow carries on copying.
                 * Checked only then, never when a source was drained as usual (the bytes
                 * before the mark came in the turn before). */
                if (errno == EAGAIN && moved == 0 && !f->copy && at_urgent_mark(source))
                        errno = EINVAL;
                if (errno == EAGAIN) {
                        flow_release(r, f);
                        break;
                }
                k = flow_move_failed(r, f, errno);
                if (k > 0)
                        continue;
                return k;
        }
        return (ssize_t) moved;
}

/* Close @c after a pump failed with @error: out of memory or fds (no pipe, no buffer) is
 * the relay's resources, anything else the pair's I/O. */
static void conn_close_failed(RelayConn *c, int error) {
        bool resources = error == ENOMEM || error == EMFILE || error == ENFILE || error == ENOBUFS;

        conn_close(c, resources ? RELAY_CLOSE_RESOURCES : RELAY_CLOSE_IO_ERROR, error);
}

static bool flow_done(const Flow *f) {
        return f->eof && f->shut && f->pending == 0;
}

static void conn_start_relaying(RelayConn *c, uint64_t now) {
        Relay *r = c->relay;
        int k;

        list_remove(&r->connecting, c);
        c->state = CONN_RELAYING;
        c->since = now;
        list_append(&r->active, c);
        k = conn_watch(c);
        if (k < 0)
                conn_close(c, RELAY_CLOSE_RESOURCES, -k);
}

/* A socket to @t, connecting. Return: 0 connected, 1 in progress, or a negative errno. */
static int target_connect(const RelayTarget *t, int *ret_fd) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
                struct sockaddr_in in;
                struct sockaddr_vm vm;
        } a = {};
        socklen_t len;
        int domain, fd, one = 1, r;

        switch (t->kind) {
        case RELAY_TARGET_UNIX:
                if (t->path[0] != '/' || strlen(t->path) >= sizeof a.un.sun_path)
                        return -EINVAL;
                a.un.sun_family = AF_UNIX;
                memcpy(a.un.sun_path, t->path, strlen(t->path));
                len = (socklen_t) sizeof a.un;
                domain = AF_UNIX;
                break;
        case RELAY_TARGET_TCP:
                a.in.sin_family = AF_INET;
                a.in.sin_addr = t->addr;
                a.in.sin_port = htons(t->port);
                len = (socklen_t) sizeof a.in;
                domain = AF_INET;
                break;
        case RELAY_TARGET_VSOCK:
                a.vm.svm_family = AF_VSOCK;
                a.vm.svm_cid = t->cid;
                a.vm.svm_port = t->port;
                len = (socklen_t) sizeof a.vm;
                domain = AF_VSOCK;
                break;
        default:
                return -EINVAL;
        }
        fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Interactive traffic (adb shell) must not wait for Nagle. */
        if (domain == AF_INET)
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, &a.sa, len) == 0) {
                *ret_fd = fd;
                return 0;
        }
        r = -errno;
        /* A UNIX socket connects at once or not at all: EAGAIN is a full backlog. */
        if (r == -EINPROGRESS && domain != AF_UNIX) {
                *ret_fd = fd;
                return 1;
        }
        safe_close(fd);
        return r;
}

/* Try the targets from c->attempt on, until one connects or is connecting. */
static void conn_connect(RelayConn *c, uint64_t now) {
        Relay *r = c->relay;
        int error = ENOENT, k;

        for (; c->attempt < r->upstream.n_targets; c->attempt++) {
                const RelayTarget *t = &r->upstream.targets[c->attempt];

                k = target_connect(t, &c->fd[END_UPSTREAM]);
                if (k < 0) {
                        error = -k;
                        if (r->cb.target_failed)
                                r->cb.target_failed(t, k, r->cb.userdata);
                        continue;
                }
                if (k == 0) {
                        conn_start_relaying(c, now);
                        return;
                }
                k = conn_watch(c);
                if (k < 0) {
                        conn_close(c, RELAY_CLOSE_RESOURCES, -k);
                        return;
                }
                return;
        }
        conn_close(c, RELAY_CLOSE_UPSTREAM_FAILED, error);
}

/* The upstream socket of a connecting pair is writable (or failed). */
static void conn_connect_done(RelayConn *c, uint64_t now) {
        Relay *r = c->relay;
        int error = 0;
        socklen_t len = sizeof error;

        if (getsockopt(c->fd[END_UPSTREAM], SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        if (error == 0) {
                conn_start_relaying(c, now);
                return;
        }
        if (r->cb.target_failed)
                r->cb.target_failed(&r->upstream.targets[c->attempt], -error, r->cb.userdata);
        c->fd[END_UPSTREAM] = safe_close(c->fd[END_UPSTREAM]);
        c->events[END_UPSTREAM] = 0;
        c->attempt++;
        if (c->attempt >= r->upstream.n_targets) {
                conn_close(c, RELAY_CLOSE_UPSTREAM_FAILED, error);
                return;
        }
        conn_connect(c, now);
}

static void conn_event(RelayConn *c, int e, uint32_t events, uint64_t now) {
        ssize_t n;
        bool progress = false;

        if (c->state == CONN_CONNECTING) {
                if (e == END_UPSTREAM)
                        conn_connect_done(c, now);
                return;
        }
        /* Readable: the flow from this end; writable: the flow into it; an error or a
         * hang-up: both, and the system calls tell what happened. */
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                n = conn_pump(c, e);
                if (n < 0) {
                        conn_close_failed(c, (int) -n);
                        return;
                }
                progress = progress || n > 0;
        }
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                n = conn_pump(c, !e);
                if (n < 0) {
                        conn_close_failed(c, (int) -n);
                        return;
                }
                progress = progress || n > 0;
        }
        if (flow_done(&c->flow[FLOW_UP]) && flow_done(&c->flow[FLOW_DOWN])) {
                conn_close(c, RELAY_CLOSE_DONE, 0);
                return;
        }
        /* An error the flows did not run into (they had nothing to do with this end). */
        if (events & EPOLLERR) {
                int error = 0;
                socklen_t len = sizeof error;

                (void) getsockopt(c->fd[e], SOL_SOCKET, SO_ERROR, &error, &len);
                conn_close(c, RELAY_CLOSE_IO_ERROR, error ?: ECONNRESET);
                return;
        }
        /* This end hung up after all it sent has gone on: what the other side may still
         * send it cannot arrive. */
        if ((events & EPOLLHUP) && flow_done(&c->flow[e])) {
                conn_close(c, RELAY_CLOSE_DONE, 0);
                return;
        }
        if (progress)
                conn_touch(c, now);
        n = conn_watch(c);
        if (n < 0)
                conn_close(c, RELAY_CLOSE_RESOURCES, (int) -n);
}

int relay_add(Relay *r, int client_fd, uint64_t now) {
        RelayConn *c;
        int flags;

        if (r->upstream.n_targets == 0) {
                safe_close(client_fd);
                return -ENOENT;
        }
        if (r->counters.open >= r->config.max_conns) {
                safe_close(client_fd);
                r->counters.refused++;
                return -EBUSY;
        }
        /* Every socket of the relay must be non-blocking, whoever accepted it. */
        flags = fcntl(client_fd, F_GETFL);
        if (flags < 0 ||
            (!(flags & O_NONBLOCK) && fcntl(client_fd, F_SETFL, flags | O_NONBLOCK) < 0)) {
                int e = -errno;
                safe_close(client_fd);
                return e;
        }
        c = calloc(1, sizeof *c);
        if (!c) {
                safe_close(client_fd);
                return -ENOMEM;
        }
        *c = (RelayConn) {
                .relay = r,
                .since = now,
                .id = ++r->next_id,
                .fd = { client_fd, -EBADF },
                .state = CONN_CONNECTING,
        };
        list_append(&r->connecting, c);
        r->counters.open++;
        r->counters.total++;
        conn_connect(c, now);
        return 0;
}

int relay_dispatch(Relay *r, uint64_t now) {
        struct epoll_event events[RELAY_BATCH];
        int n;

        n = epoll_wait(r->epoll_fd, events, RELAY_BATCH, 0);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        r->dispatching = true;
        for (int i = 0; i < n; i++) {
                RelayConn *c = (RelayConn *) (uintptr_t) (events[i].data.u64 & ~(uint64_t) 1);
                int e = (int) (events[i].data.u64 & 1);

                if (c->state == CONN_CLOSED)
                        continue;
                conn_event(c, e, events[i].events, now);
        }
        r->dispatching = false;
        conn_free_all(r);
        return n;
}

/* Whether @timeout has passed since @since (a clock that never goes back; 0: never). */
static bool passed(uint64_t since, uint64_t timeout, uint64_t now) {
        return timeout > 0 && now >= since && now - since >= timeout;
}

unsigned relay_expire(Relay *r, uint64_t now) {
        unsigned n = 0;

        while (r->connecting.head &&
               passed(r->connecting.head->since, r->config.connect_timeout_usec, now)) {
                conn_close(r->connecting.head, RELAY_CLOSE_CONNECT_TIMEOUT, ETIMEDOUT);
                n++;
        }
        while (r->active.head && passed(r->active.head->since, r->config.idle_timeout_usec, now)) {
                conn_close(r->active.head, RELAY_CLOSE_IDLE, 0);
                n++;
        }
        return n;
}

static uint64_t deadline(const RelayConn *c, uint64_t timeout) {
        if (!c || timeout == 0)
                return UINT64_MAX;
        return c->since > UINT64_MAX - timeout ? UINT64_MAX : c->since + timeout;
}

uint64_t relay_next_deadline(const Relay *r) {
        uint64_t a = deadline(r->connecting.head, r->config.connect_timeout_usec);
        uint64_t b = deadline(r->active.head, r->config.idle_timeout_usec);
        return a < b ? a : b;
}

void relay_close_all(Relay *r) {
        while (r->connecting.head)
                conn_close(r->connecting.head, RELAY_CLOSE_STOPPED, 0);
        while (r->active.head)
                conn_close(r->active.head, RELAY_CLOSE_STOPPED, 0);
}
