/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/ipc.h framing over a real AF_UNIX SOCK_SEQPACKET pair from ipc_socketpair(): each
 * test gets a fresh pair, sends on end 0 (with ipc_send() or raw sendmsg() for what
 * ipc_send() refuses to produce) and receives on end 1.
 *
 * Received descriptors that ipc_recv() must close are checked two ways: the number of open
 * descriptors in /proc/self/fd is unchanged, and the lowest free number before the call
 * (the one the kernel would have installed the first fd at) is still free afterwards.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipc-msg.h"
#include "ipc.h"
#include "macro.h"

#define SEND 0
#define RECV 1

static const uint8_t host_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t peer_mac[6] = { 0x02, 0x66, 0x77, 0x88, 0x99, 0xaa };

static int setup_pair(void **state) {
        int *sv = malloc(2 * sizeof(int));

        if (!sv || ipc_socketpair(sv) < 0) {
                free(sv);
                return -1;
        }
        *state = sv;
        return 0;
}

static int teardown_pair(void **state) {
        int *sv = *state;

        safe_close(sv[SEND]);
        safe_close(sv[RECV]);
        free(sv);
        return 0;
}

/* A ConnectNamespace request with every field set; op must outlive req. */
static void request_init(HelperRequest *req, IpcNsConnect *op) {
        *op = (IpcNsConnect) PATCHPANEL__IPC__NS_CONNECT__INIT;
        op->ns_id = 7;
        op->pid = 4321;
        op->subnet_base = 0x64735c80u; /* 100.115.92.128 */
        op->subnet_prefix_len = 30;
        op->host_mac = (ProtobufCBinaryData) { sizeof host_mac, (uint8_t *) host_mac };
        op->peer_mac = (ProtobufCBinaryData) { sizeof peer_mac, (uint8_t *) peer_mac };
        op->source = 0x20;

        *req = (HelperRequest) HELPER_REQUEST_INIT;
        req->id = 0x1122334455667788u;
        req->op_case = OP(NS_CONNECT);
        req->ns_connect = op;
}

static int recv_request(int fd, HelperRequest **ret, int *ret_fds, size_t max_fds,
                        size_t *ret_n_fds) {
        ProtobufCMessage *m = NULL;
        int r;

        r = ipc_recv(fd, &patchpanel__ipc__helper_request__descriptor, &m, ret_fds, max_fds,
                     ret_n_fds);
        *ret = (HelperRequest *) m;
        return r;
}

static void send_raw(int fd, const void *buf, size_t len, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * 16)];
        } control;
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        assert_true(n_fds <= 16);
        if (n_fds > 0) {
                memset(&control, 0, sizeof control);
                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t) len);
}

static size_t count_open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own fd */
}

static int lowest_free_fd(void) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        assert_true(fd >= 0);
        close(fd);
        return fd;
}

static void assert_fd_closed(int fd) {
        errno = 0;
        assert_int_equal(fcntl(fd, F_GETFD), -1);
        assert_int_equal(errno, EBADF);
}

static void assert_queue_empty(int fd) {
        HelperRequest *req = NULL;

        assert_int_equal(recv_request(fd, &req, NULL, 0, NULL), -EAGAIN);
        assert_null(req);
}

/* Send a valid request with n_fds copies of a pipe end, then expect ipc_recv() to fail
 * with `expected` and to leave no received descriptor open. */
static void assert_fds_rejected(int *sv, size_t n_fds, int *ret_fds, size_t max_fds,
                                int expected) {
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        int p[2], fds[IPC_FDS_MAX];
        size_t before;
        int free_fd;

        assert_true(n_fds <= IPC_FDS_MAX);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        for (size_t i = 0; i < n_fds; i++)
                fds[i] = p[0];
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, fds, n_fds), 0);

        before = count_open_fds();
        free_fd = lowest_free_fd();
        assert_int_equal(recv_request(sv[RECV], &got, ret_fds, max_fds, NULL), expected);
        assert_null(got);
        assert_int_equal(count_open_fds(), before);
        assert_fd_closed(free_fd);

        close(p[0]);
        close(p[1]);
}

/* Round trips */

static void test_round_trip(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        size_t n_fds = 99;

        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, &n_fds), 1);
        assert_non_null(got);
        assert_int_equal(n_fds, 0);
        assert_int_equal(got->id, 0x1122334455667788u);
        assert_int_equal(got->op_case, OP(NS_CONNECT));
        assert_non_null(got->ns_connect);
        assert_int_equal(got->ns_connect->ns_id, 7);
        assert_int_equal(got->ns_connect->pid, 4321);
        assert_int_equal(got->ns_connect->subnet_base, 0x64735c80u);
        assert_int_equal(got->ns_connect->subnet_prefix_len, 30);
        assert_int_equal(got->ns_connect->host_mac.len, sizeof host_mac);
        assert_memory_equal(got->ns_connect->host_mac.data, host_mac, sizeof host_mac);
        assert_int_equal(got->ns_connect->peer_mac.len, sizeof peer_mac);
        assert_memory_equal(got->ns_connect->peer_mac.data, peer_mac, sizeof peer_mac);
        assert_int_equal(got->ns_connect->source, 0x20);
        helper_request_free(got);
        assert_queue_empty(sv[RECV]);
}

static void test_round_trip_in_order(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;

        request_init(&req, &op);
        for (uint64_t id = 1; id <= 3; id++) {
                req.id = id;
                assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        }
        for (uint64_t id = 1; id <= 3; id++) {
                assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 1);
                assert_int_equal(got->id, id);
                helper_request_free(got);
        }
        assert_queue_empty(sv[RECV]);
}

static void test_round_trip_empty_op(void **state) {
        int *sv = *state;
        IpcDatapathStart start = PATCHPANEL__IPC__DATAPATH_START__INIT;
        HelperRequest req = HELPER_REQUEST_INIT, *got = NULL;

        /* The smallest useful message: a oneof case with an empty body, id 0. */
        req.op_case = OP(DATAPATH_START);
        req.datapath_start = &start;
        assert_int_equal(protobuf_c_message_get_packed_size(&req.base), 2);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 1);
        assert_int_equal(got->id, 0);
        assert_int_equal(got->op_case, OP(DATAPATH_START));
        helper_request_free(got);
}

/* A request whose packed size is exactly `size`, by choosing the length of host_mac. */
static uint8_t *request_of_size(HelperRequest *req, IpcNsConnect *op, size_t size) {
        uint8_t *big = calloc(1, size);

        assert_non_null(big);
        request_init(req, op);
        op->host_mac.data = big;
        for (size_t len = size - 64; len < size; len++) {
                op->host_mac.len = len;
                if (protobuf_c_message_get_packed_size(&req->base) == size)
                        return big;
        }
        fail_msg("no host_mac length packs to %zu bytes", size);
        return NULL;
}

static void test_send_exactly_max(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        uint8_t *big = request_of_size(&req, &op, IPC_MESSAGE_MAX);

        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 1);
        assert_int_equal(got->ns_connect->host_mac.len, op.host_mac.len);
        helper_request_free(got);
        free(big);
}

/* ipc_send() refusals */

static void test_send_max_plus_one(void **state) {
        int *sv = *state;
        HelperRequest req;
        IpcNsConnect op;
        uint8_t *big = request_of_size(&req, &op, IPC_MESSAGE_MAX + 1);

        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), -EMSGSIZE);
        assert_queue_empty(sv[RECV]);
        free(big);
}

static void test_send_too_big(void **state) {
        int *sv = *state;
        HelperRequest req;
        IpcNsConnect op;
        uint8_t *big = calloc(1, 70000);

        assert_non_null(big);
        request_init(&req, &op);
        op.host_mac = (ProtobufCBinaryData) { .len = 70000, .data = big };
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), -EMSGSIZE);
        assert_queue_empty(sv[RECV]);
        free(big);
}

static void test_send_packs_to_nothing(void **state) {
        int *sv = *state;
        HelperRequest req = HELPER_REQUEST_INIT;

        /* id 0 and no op: zero bytes, which the peer would read as a close. */
        assert_int_equal(protobuf_c_message_get_packed_size(&req.base), 0);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), -EINVAL);
        assert_queue_empty(sv[RECV]);
}

static void test_send_too_many_fds(void **state) {
        int *sv = *state;
        HelperRequest req;
        IpcNsConnect op;
        int fds[IPC_FDS_MAX + 1];

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = sv[SEND];
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, fds, ELEMENTSOF(fds)), -EINVAL);
        assert_queue_empty(sv[RECV]);
}

static void test_send_packed_too_big(void **state) {
        int *sv = *state;
        uint8_t *buf = calloc(1, IPC_MESSAGE_MAX + 1);

        assert_non_null(buf);
        assert_int_equal(ipc_send_packed(sv[SEND], buf, IPC_MESSAGE_MAX + 1, NULL, 0), -EMSGSIZE);
        assert_queue_empty(sv[RECV]);
        free(buf);
}

static void test_send_packed_empty(void **state) {
        int *sv = *state;
        uint8_t b = 0;

        assert_int_equal(ipc_send_packed(sv[SEND], &b, 0, NULL, 0), -EINVAL);
        assert_queue_empty(sv[RECV]);
}

static void test_send_bad_fd(void **state) {
        HelperRequest req;
        IpcNsConnect op;

        (void) state;
        request_init(&req, &op);
        assert_int_equal(ipc_send(-1, &req.base, NULL, 0), -EBADF);
}

static void test_send_peer_closed(void **state) {
        int *sv = *state;
        HelperRequest req;
        IpcNsConnect op;

        /* No SIGPIPE: the error comes back instead. */
        sv[RECV] = safe_close(sv[RECV]);
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), -EPIPE);
}

/* ipc_recv(): oversized datagrams */

static void test_recv_raw_too_big(void **state) {
        int *sv = *state;
        int sndbuf = 1024 * 1024;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        uint8_t *big = calloc(1, 70000);

        assert_non_null(big);
        assert_int_equal(setsockopt(sv[SEND], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
        send_raw(sv[SEND], big, 70000, NULL, 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), -EMSGSIZE);
        assert_null(got);

        /* The whole datagram is gone; the next message reads normally. */
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 1);
        helper_request_free(got);
        free(big);
}

static void test_recv_raw_max_plus_one(void **state) {
        int *sv = *state;
        int sndbuf = 1024 * 1024;
        HelperRequest *got = NULL;
        uint8_t *big = calloc(1, IPC_MESSAGE_MAX + 1);

        assert_non_null(big);
        assert_int_equal(setsockopt(sv[SEND], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
        send_raw(sv[SEND], big, IPC_MESSAGE_MAX + 1, NULL, 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), -EMSGSIZE);
        assert_queue_empty(sv[RECV]);
        free(big);
}

static void test_recv_raw_too_big_with_fd(void **state) {
        int *sv = *state;
        int sndbuf = 1024 * 1024, fds[1], p[2];
        HelperRequest *got = NULL;
        uint8_t *big = calloc(1, 70000);
        size_t before;
        int free_fd;

        assert_non_null(big);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        fds[0] = p[0];
        assert_int_equal(setsockopt(sv[SEND], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
        send_raw(sv[SEND], big, 70000, fds, 1);

        /* Even where fds are allowed, a truncated datagram's fd is closed. */
        before = count_open_fds();
        free_fd = lowest_free_fd();
        assert_int_equal(recv_request(sv[RECV], &got, fds, 1, NULL), -EMSGSIZE);
        assert_int_equal(count_open_fds(), before);
        assert_fd_closed(free_fd);
        close(p[0]);
        close(p[1]);
        free(big);
}

/* ipc_recv(): bytes that do not decode, one per test */

static void assert_garbage_rejected(int *sv, const uint8_t *bytes, size_t len) {
        HelperRequest *got = NULL;

        send_raw(sv[SEND], bytes, len, NULL, 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), -EBADMSG);
        assert_null(got);
        assert_queue_empty(sv[RECV]);
}

static void test_recv_garbage_truncated_varint(void **state) {
        static const uint8_t bytes[] = {
                0x08,       /* field 1 (id), varint */
                0x80,       /* continuation bit set, then nothing */
        };

        assert_garbage_rejected(*state, bytes, sizeof bytes);
}

static void test_recv_garbage_length_beyond_end(void **state) {
        static const uint8_t bytes[] = {
                0x62,       /* field 12 (ns_connect), length-delimited */
                0x10,       /* length 16 */
                0x08, 0x01, /* only 2 bytes follow */
        };

        assert_garbage_rejected(*state, bytes, sizeof bytes);
}

static void test_recv_garbage_bad_wire_type(void **state) {
        static const uint8_t bytes[] = {
                0x0f,       /* field 1, wire type 7 (does not exist) */
                0x00,
        };

        assert_garbage_rejected(*state, bytes, sizeof bytes);
}

static void test_recv_garbage_field_zero(void **state) {
        static const uint8_t bytes[] = {
                0x00,       /* field 0: not a valid field number */
                0x00,
        };

        assert_garbage_rejected(*state, bytes, sizeof bytes);
}

static void test_recv_garbage_nested(void **state) {
        static const uint8_t bytes[] = {
                0x62,       /* field 12 (ns_connect), length-delimited */
                0x02,       /* length 2 */
                0x2a,       /* NsConnect field 5 (host_mac), length-delimited */
                0x05,       /* length 5, but the submessage ends here */
        };

        assert_garbage_rejected(*state, bytes, sizeof bytes);
}

static void test_recv_garbage_all_ff(void **state) {
        uint8_t bytes[64];

        memset(bytes, 0xff, sizeof bytes);
        assert_garbage_rejected(*state, bytes, sizeof bytes);
}

static void test_recv_garbage_with_fd_closes_it(void **state) {
        static const uint8_t bytes[] = { 0x08, 0x80 };
        int *sv = *state;
        HelperRequest *got = NULL;
        int p[2], fds[1];
        size_t before;
        int free_fd;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        fds[0] = p[0];
        send_raw(sv[SEND], bytes, sizeof bytes, fds, 1);

        before = count_open_fds();
        free_fd = lowest_free_fd();
        assert_int_equal(recv_request(sv[RECV], &got, fds, 1, NULL), -EBADMSG);
        assert_int_equal(count_open_fds(), before);
        assert_fd_closed(free_fd);
        close(p[0]);
        close(p[1]);
}

/* ipc_recv(): descriptors */

static void test_recv_fd_none_allowed(void **state) {
        assert_fds_rejected(*state, 1, NULL, 0, -EPROTO);
}

static void test_recv_fd_no_array(void **state) {
        /* max_fds says one is fine, but there is nowhere to put it. */
        assert_fds_rejected(*state, 1, NULL, 1, -EPROTO);
}

static void test_recv_fd_zero_capacity(void **state) {
        int fds[1];

        assert_fds_rejected(*state, 1, fds, 0, -EPROTO);
}

static void test_recv_more_fds_than_max(void **state) {
        int fds[1];

        assert_fds_rejected(*state, 2, fds, 1, -EPROTO);
}

static void test_recv_many_fds_small_max(void **state) {
        int fds[3];

        assert_fds_rejected(*state, IPC_FDS_MAX, fds, 3, -EPROTO);
}

static void test_recv_fds_beyond_ipc_fds_max(void **state) {
        int *sv = *state;
        int p[2], fds[IPC_FDS_MAX + 1], got_fds[IPC_FDS_MAX];
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        uint8_t buf[256];
        size_t len, before;
        int free_fd;

        /* More than fit in ipc_recv()'s control buffer: MSG_CTRUNC. */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                fds[i] = p[0];
        request_init(&req, &op);
        len = protobuf_c_message_pack(&req.base, buf);
        send_raw(sv[SEND], buf, len, fds, ELEMENTSOF(fds));

        before = count_open_fds();
        free_fd = lowest_free_fd();
        assert_int_equal(recv_request(sv[RECV], &got, got_fds, IPC_FDS_MAX, NULL), -EPROTO);
        assert_null(got);
        assert_int_equal(count_open_fds(), before);
        assert_fd_closed(free_fd);
        close(p[0]);
        close(p[1]);
}

static void test_recv_fd_allowed(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        int p[2], fds[1] = { -1 };
        size_t n_fds = 0;
        struct stat a, b;
        char c = 0;

        assert_int_equal(pipe2(p, 0), 0); /* no O_CLOEXEC: the receiver must set it */
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, &p[1], 1), 0);
        assert_int_equal(recv_request(sv[RECV], &got, fds, 1, &n_fds), 1);
        assert_non_null(got);
        assert_int_equal(got->id, req.id);
        assert_int_equal(n_fds, 1);
        assert_true(fds[0] >= 0);
        assert_int_not_equal(fds[0], p[1]);

        /* Close-on-exec, and the same pipe. */
        assert_int_equal(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(fstat(fds[0], &a), 0);
        assert_int_equal(fstat(p[1], &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(write(fds[0], "x", 1), 1);
        assert_int_equal(read(p[0], &c, 1), 1);
        assert_int_equal(c, 'x');

        helper_request_free(got);
        close(fds[0]);
        close(p[0]);
        close(p[1]);
}

static void test_recv_fds_up_to_max(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        int p[2], send_fds[3], fds[3] = { -1, -1, -1 };
        size_t n_fds = 0;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        send_fds[0] = p[0];
        send_fds[1] = p[1];
        send_fds[2] = p[0];
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, send_fds, 3), 0);
        assert_int_equal(recv_request(sv[RECV], &got, fds, 3, &n_fds), 1);
        assert_int_equal(n_fds, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_true(fds[i] >= 0);
                assert_int_equal(fcntl(fds[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
                close(fds[i]);
        }
        helper_request_free(got);
        close(p[0]);
        close(p[1]);
}

static void test_recv_fds_ipc_fds_max(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        int p[2], send_fds[IPC_FDS_MAX], fds[IPC_FDS_MAX];
        size_t n_fds = 0;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        for (size_t i = 0; i < IPC_FDS_MAX; i++)
                send_fds[i] = p[0];
        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, send_fds, IPC_FDS_MAX), 0);
        assert_int_equal(recv_request(sv[RECV], &got, fds, IPC_FDS_MAX, &n_fds), 1);
        assert_int_equal(n_fds, IPC_FDS_MAX);
        for (size_t i = 0; i < IPC_FDS_MAX; i++)
                close(fds[i]);
        helper_request_free(got);
        close(p[0]);
        close(p[1]);
}

static void test_recv_no_fd_when_allowed(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;
        int fds[1] = { -1 };
        size_t n_fds = 99;

        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        assert_int_equal(recv_request(sv[RECV], &got, fds, 1, &n_fds), 1);
        assert_int_equal(n_fds, 0);
        helper_request_free(got);
}

/* ipc_recv(): end of stream and empty queue */

static void test_recv_peer_close(void **state) {
        int *sv = *state;
        HelperRequest *got = NULL;

        sv[SEND] = safe_close(sv[SEND]);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 0);
        assert_null(got);
}

static void test_recv_queued_then_close(void **state) {
        int *sv = *state;
        HelperRequest req, *got = NULL;
        IpcNsConnect op;

        request_init(&req, &op);
        assert_int_equal(ipc_send(sv[SEND], &req.base, NULL, 0), 0);
        sv[SEND] = safe_close(sv[SEND]);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 1);
        helper_request_free(got);
        got = NULL;
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 0);
        assert_null(got);
}

static void test_recv_zero_length_datagram(void **state) {
        int *sv = *state;
        HelperRequest *got = NULL;

        /* Indistinguishable from a close, which is why ipc_send() never sends one. */
        assert_int_equal(send(sv[SEND], "", 0, MSG_NOSIGNAL), 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), 0);
}

static void test_recv_empty_nonblocking(void **state) {
        int *sv = *state;
        HelperRequest *got = NULL;

        assert_int_equal(fcntl(sv[RECV], F_SETFL, fcntl(sv[RECV], F_GETFL) | O_NONBLOCK), 0);
        assert_int_equal(recv_request(sv[RECV], &got, NULL, 0, NULL), -EAGAIN);
        assert_null(got);
}

static void test_recv_bad_fd(void **state) {
        HelperRequest *got = NULL;

        (void) state;
        assert_int_equal(recv_request(-1, &got, NULL, 0, NULL), -EBADF);
}

static void test_socketpair_cloexec(void **state) {
        int *sv = *state;
        int type = 0;
        socklen_t len = sizeof type;

        assert_int_equal(fcntl(sv[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(fcntl(sv[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len), 0);
        assert_int_equal(type, SOCK_SEQPACKET);
}

#define PAIR_TEST(f) cmocka_unit_test_setup_teardown(f, setup_pair, teardown_pair)

int main(void) {
        const struct CMUnitTest tests[] = {
                PAIR_TEST(test_socketpair_cloexec),
                PAIR_TEST(test_round_trip),
                PAIR_TEST(test_round_trip_in_order),
                PAIR_TEST(test_round_trip_empty_op),
                PAIR_TEST(test_send_exactly_max),
                PAIR_TEST(test_send_max_plus_one),
                PAIR_TEST(test_send_too_big),
                PAIR_TEST(test_send_packs_to_nothing),
                PAIR_TEST(test_send_too_many_fds),
                PAIR_TEST(test_send_packed_too_big),
                PAIR_TEST(test_send_packed_empty),
                PAIR_TEST(test_send_bad_fd),
                PAIR_TEST(test_send_peer_closed),
                PAIR_TEST(test_recv_raw_too_big),
                PAIR_TEST(test_recv_raw_max_plus_one),
                PAIR_TEST(test_recv_raw_too_big_with_fd),
                PAIR_TEST(test_recv_garbage_truncated_varint),
                PAIR_TEST(test_recv_garbage_length_beyond_end),
                PAIR_TEST(test_recv_garbage_bad_wire_type),
                PAIR_TEST(test_recv_garbage_field_zero),
                PAIR_TEST(test_recv_garbage_nested),
                PAIR_TEST(test_recv_garbage_all_ff),
                PAIR_TEST(test_recv_garbage_with_fd_closes_it),
                PAIR_TEST(test_recv_fd_none_allowed),
                PAIR_TEST(test_recv_fd_no_array),
                PAIR_TEST(test_recv_fd_zero_capacity),
                PAIR_TEST(test_recv_more_fds_than_max),
                PAIR_TEST(test_recv_many_fds_small_max),
                PAIR_TEST(test_recv_fds_beyond_ipc_fds_max),
                PAIR_TEST(test_recv_fd_allowed),
                PAIR_TEST(test_recv_fds_up_to_max),
                PAIR_TEST(test_recv_fds_ipc_fds_max),
                PAIR_TEST(test_recv_no_fd_when_allowed),
                PAIR_TEST(test_recv_peer_close),
                PAIR_TEST(test_recv_queued_then_close),
                PAIR_TEST(test_recv_zero_length_datagram),
                PAIR_TEST(test_recv_empty_nonblocking),
                PAIR_TEST(test_recv_bad_fd),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
