/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * patchpaneld: the manager. The only process of the suite that speaks D-Bus and holds
 * policy; it never configures the kernel itself but asks patchpanel-helper, and it starts
 * nothing itself once locked down but asks patchpanel-launcher.
 *
 * Theory of operation, each stage shrinking what the process can do:
 *   1. as root: parse the configuration file, then the arguments (which win), resolve the
 *      users, block the signals the event loop takes;
 *   2. fork+exec the helper with a socketpair on fd 3, bounding/effective/permitted sets cut
 *      to NET_ADMIN, NET_RAW, SYS_ADMIN, SYS_PTRACE; fork+exec the launcher as our user with
 *      CAP_NET_RAW as its only (ambient) capability, to hand on to the forwarders;
 *   3. switch to the unprivileged user keeping no capability at all, set no_new_privs;
 *   4. open what it needs: the system bus, the rtnetlink link monitor;
 *   5. load the seccomp policy (no fork, no exec), before the first byte from any client;
 *   6. own org.chromium.PatchPanel (refusing to run twice), ask the helper for the datapath,
 *      start the forwarders through the launcher, and serve until SIGTERM/SIGINT, which
 *      tear everything down.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "options.h"
#include "privs.h"
#include "rate-limit.h"

#ifndef PP_HELPER_INSTALL_PATH
#define PP_HELPER_INSTALL_PATH "/usr/libexec/patchpanel/patchpanel-helper"
#endif
#ifndef PP_MANAGER_INSTALL_PATH
#define PP_MANAGER_INSTALL_PATH "/usr/sbin/patchpaneld"
#endif
#ifndef PP_LAUNCHER_INSTALL_PATH
#define PP_LAUNCHER_INSTALL_PATH "/usr/libexec/patchpanel/patchpanel-launcher"
#endif
#ifndef PP_CONFIG_FILE
#define PP_CONFIG_FILE "/etc/patchpanel/patchpaneld.conf"
#endif

extern const char seccomp_policy_patchpaneld[];

typedef struct Args {
        const char *user, *helper, *launcher, *log_level, *tap_user, *lockdown_user;
        PoolConfig netns_pool;                /* --netns-pool, when netns_pool_set */
        bool netns_pool_set;
        SeccompMode seccomp;
        uint32_t pool_base;
        UidRange uid_sources[SOURCE_MAP_MAX]; /* --uid-source, over the defaults */
        size_t n_uid_sources;
        int64_t adb_max_connections, adb_idle_timeout;
        int64_t probe_interval;               /* --neighbor-probe-interval, seconds */
        ManagerConfig config;
} Args;

/* An absolute path that fits a UNIX socket address. */
static int parse_socket_path(const Option *o, const char *arg, ErrBuf *err) {
        if (arg[0] != '/' || strlen(arg) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return errbuf_set(err, -EINVAL, "an absolute path of at most %zu bytes",
                                  sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1);
        *(const char **) o->data = arg;
        return 0;
}

static int parse_pool_base(const Option *o, const char *arg, ErrBuf *err) {
        uint32_t *base = o->data;

        if (ipv4_parse(arg, base) < 0)
                return errbuf_set(err, -EINVAL, "an IPv4 address");
        return pool_layout_init(&(PoolLayout) {}, *base) < 0
                       ? errbuf_set(err, -EINVAL, "not /23 aligned") : 0;
}

static int parse_uplinks(const Option *o, const char *arg, ErrBuf *err) {
        size_t n = 1, len = strlen(arg) + 1;
        char **l, *save = NULL, *copy;

        for (const char *p = arg; *p; p++)
                n += *p == ',';
        /* One block: the list, then the copy its pieces point into; the last one given
         * (the file's, then the command line's) replaces the earlier. */
        l = calloc(1, (n + 1) * sizeof(char *) + len);
        if (!l)
                return errbuf_set(err, -ENOMEM, "out of memory");
        copy = memcpy((char *) (l + n + 1), arg, len);
        n = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                l[n++] = t;
        if (n == 0) {
                free(l);
                return errbuf_set(err, -EINVAL, "no interface pattern");
        }
        free(*(char ***) o->data);
        *(char ***) o->data = l;
        return 0;
}

/* Checked here, so that a bad value in the configuration file is reported with its line. */
static int parse_netns_pool(const Option *o, const char *arg, ErrBuf *err) {
        Args *a = o->data;

        if (pool_config_parse(arg, &a->netns_pool) < 0)
                return errbuf_set(err, -EINVAL, "expected A.B.C.D/LENxCOUNT with an aligned base");
        a->netns_pool_set = true;
        return 0;
}

static int parse_user(const Option *o, const char *arg, ErrBuf *err) {
        if (!getpwnam(arg))
                return errbuf_set(err, -ENOENT, "no such user");
        *(const char **) o->data = arg;
        return 0;
}

static int parse_uid_source(const Option *o, const char *arg, ErrBuf *err) {
        Args *a = o->data;
        UidRange *u = &a->uid_sources[a->n_uid_sources];

        if (a->n_uid_sources >= ELEMENTSOF(a->uid_sources))
                return errbuf_set(err, -E2BIG, "too many --uid-source options");
        if (source_map_parse_entry(arg, &u->first, &u->last, &u->source) < 0)
                return errbuf_set(err, -EINVAL, "expected UID[-UID]=SOURCE with a local source "
                                  "(chrome, user, update-engine, system, host-vpn)");
        a->n_uid_sources++;
        return 0;
}

static int parse_args(int argc, char **argv, Args *a) {
        const Option options[] = {
                { "user", 0, "NAME", "unprivileged user to run as (default: patchpaneld)",
                  parse_user, &a->user },
                { "helper", 0, "PATH", "privileged helper (default: the installed one for an\n"
                  "installed patchpaneld, else the one beside it)", option_parse_string, &a->helper },
                { "launcher", 0, "PATH", "the forwarders' launcher (default: as for --helper,\n"
                  "or beside the --helper given)", option_parse_string, &a->launcher },
                OPTION_SECCOMP(&a->seccomp),
                OPTION_LOG_LEVEL(&a->log_level),
                { "pool-base", 0, "ADDR", "start of the /23 the guest pools are cut from\n"
                  "(default: 100.115.92.0)", parse_pool_base, &a->pool_base },
                { "netns-pool", 0, "A/LxN", "ConnectNamespace pool: N subnets of prefix L from A\n"
                  "(default: the 16 /30s at pool base + 128)", parse_netns_pool, a },
                { "tap-user", 0, "NAME", "owner of VM TAPs, who may open them (default: crosvm\n"
                  "if that user exists, else root)", parse_user, &a->tap_user },
                { "uplinks", 0, "GLOB,...", "interface names that count as uplinks\n"
                  "(default: eth*,en*,usb*,wlan*,wl*,mlan*,wwan*,ww*,\nrmnet*,mbimmux*,qmapmux*)",
                  parse_uplinks, &a->config.uplink_patterns },
                { "ingress-firewall", 0, "on|off", "drop new inbound connections on uplinks except\n"
                  "to ports opened by ACCESS rules (default: off)", option_parse_on_off,
                  &a->config.ingress_firewall },
                { "lockdown-user", 0, "NAME", "the one user that may connect to LOCKDOWN ports\n"
                  "(default: chronos if that user exists, else root)", parse_user,
                  &a->lockdown_user },
                { "adb-proxy", 0, "on|off", "relay ADB over TCP port 5555 into ARC while it runs\n"
                  "(default: off: it opens a debugging port)", option_parse_on_off,
                  &a->config.forwarders.adb.enabled },
                { "adb-socket", 0, "PATH", "the ARC container's adbd socket, tried before TCP\n"
                  "to ARC's address (default: " ADB_SOCKET_DEFAULT ")", parse_socket_path,
                  &a->config.forwarders.adb.socket_path },
                { "adb-max-connections", 0, "N", "ADB connections at once; more are refused\n"
                  "(default: 512)", option_parse_int, &a->adb_max_connections, 1, 65536 },
                { "adb-idle-timeout", 0, "SEC", "close an ADB connection idle that long, 0 never\n"
                  "(default: 3600)", option_parse_int, &a->adb_idle_timeout, 0, 7 * 86400 },
                { "uid-source", 0, "UID[-UID]=SOURCE", "count the host's traffic of these uids as "
                  "SOURCE\n(chrome, user, update-engine, system, host-vpn);\nrepeatable, later ones "
                  "win (default: 1000-60000=user,\nthe lockdown user=chrome, everyone else system)",
                  parse_uid_source, a },
                { "mcast", 0, "on|off", "forward mDNS and SSDP for the guests, and ARC's UDP\n"
                  "broadcasts (mcastd; default: on)", option_parse_on_off,
                  &a->config.forwarders.mcast },
                { "mcast-rate-limit", 0, "PROTO=N[/BURST]", "datagrams a second mcastd lets each "
                  "link send\nand be sent, per protocol (mdns, ssdp, broadcast;\n0: no limit; "
                  "default: 2000 for mdns and ssdp,\n1000 for broadcast); repeatable",
                  rate_limit_option_parse, &a->config.forwarders.mcast_rates },
                { "neighbor-probe-interval", 0, "SECONDS", "how often the gateways and DNS servers "
                  "of the\nuplinks are probed (default: 60)", option_parse_int, &a->probe_interval,
                  .min = 1, .max = 3600 },
                { "resolv-conf", 0, "PATH", "where the DNS servers to watch are listed\n"
                  "(default: /etc/resolv.conf)", option_parse_string,
                  &a->config.neighbors.resolv_conf },
                { "resolved-conf", 0, "PATH", "systemd-resolved's list of its servers, watched for\n"
                  "changes and read when --resolv-conf lists only its\nstub and resolved does not "
                  "answer on the bus\n(default: " NEIGHBOR_RESOLVED_CONF_DEFAULT ")",
                  option_parse_string, &a->config.neighbors.resolved_conf },
                { "ndproxy", 0, "on|off", "IPv6 for guests on their uplink's prefix through\n"
                  "ndproxyd, an RFC 4389 ND proxy (default: on)", option_parse_on_off,
                  &a->config.forwarders.ndproxy },
#ifdef PP_TEST_CHILD
                { "test-child", 0, NULL, "also run pp-testchild, a forwarder for tests",
                  option_parse_flag, &a->config.forwarders.test_child },
#endif
        };
        const OptionsSpec spec = {
                .usage = "patchpaneld [OPTIONS]",
                .description = "Networking for the guests of this host (containers, VMs, namespaces), over\n"
                               "D-Bus as org.chromium.PatchPanel. Runs in the foreground; must start as root.",
                .options = options,
                .n_options = ELEMENTSOF(options),
                .config_file = PP_CONFIG_FILE,
        };
        int first, r;

        *a = (Args) { .user = "patchpaneld", .seccomp = SECCOMP_MODE_ENFORCE,
                      .pool_base = POOL_DEFAULT_BASE,
                      .adb_max_connections = ADB_MAX_CONNECTIONS_DEFAULT,
                      .adb_idle_timeout = ADB_IDLE_TIMEOUT_SEC_DEFAULT,
                      .config.forwarders.adb.socket_path = ADB_SOCKET_DEFAULT };
        a->config.forwarders.mcast = true;
        a->config.forwarders.ndproxy = true;
        r = options_parse(&spec, argc, argv, &first);
        if (r < 0)
                return r;
        a->config.forwarders.adb.max_connections = (uint32_t) a->adb_max_connections;
        a->config.forwarders.adb.idle_timeout_sec = (uint32_t) a->adb_idle_timeout;
        if (first < argc) {
                options_usage(&spec, stderr);
                return -EINVAL;
        }
        return 0;
}

/* The pools, the users and the uid map, from the arguments. */
static int resolve_config(Args *a) {
        ManagerConfig *c = &a->config;
        struct passwd *pw;
        int r;

        (void) pool_layout_init(&c->pools, a->pool_base);
        c->neighbors.probe_interval_usec = (uint64_t) a->probe_interval * 1000000u;
        if (a->netns_pool_set)
                c->pools.pools[POOL_NETNS] = a->netns_pool;
        r = pool_layout_validate(&c->pools);
        if (r < 0)
                return log_error_errno(r, "The address pools overlap or are invalid: %m");

        pw = getpwnam(a->tap_user ?: "crosvm");
        if (!pw && a->tap_user)
                return log_error_errno(-ENOENT, "No such user for --tap-user: %s", a->tap_user);
        c->tap_owner = pw ? pw->pw_uid : 0;
        pw = getpwnam(a->lockdown_user ?: "chronos");
        if (!pw && a->lockdown_user)
                return log_error_errno(-ENOENT, "No such user for --lockdown-user: %s",
                                       a->lockdown_user);
        c->lockdown_uid = pw ? pw->pw_uid : 0;

        /* Regular users (Debian's UID_MIN..UID_MAX), then the browser-like lockdown user,
         * then what the command line says. */
        r = source_map_set(&c->uid_sources, 1000, 60000, TRAFFIC_SOURCE_USER);
        if (r >= 0 && c->lockdown_uid != 0)
                r = source_map_set(&c->uid_sources, c->lockdown_uid, c->lockdown_uid,
                                   TRAFFIC_SOURCE_CHROME);
        for (size_t i = 0; r >= 0 && i < a->n_uid_sources; i++)
                r = source_map_set(&c->uid_sources, a->uid_sources[i].first,
                                   a->uid_sources[i].last, a->uid_sources[i].source);
        if (r < 0)
                return log_error_errno(r, "The --uid-source ranges are too fragmented");
        return 0;
}

/*
 * A binary of the suite: the option; else, for an installed patchpaneld, the installed one;
 * else (a build tree) the one beside our own binary, or beside @near when that was given.
 */
static char *find_binary(const char *arg, const char *near, const char *installed,
                         const char *name) {
        char self[4096], *slash, *ret = NULL;
        ssize_t n;

        if (arg)
                return strdup(arg);
        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n < 0)
                return NULL;
        self[n] = '\0';
        if (strcmp(self, PP_MANAGER_INSTALL_PATH) == 0)
                return strdup(installed);
        if (near)
                snprintf(self, sizeof self, "%s", near);
        slash = strrchr(self, '/');
        if (!slash)
                return strdup(name);
        if (asprintf(&ret, "%.*s/%s", (int) (slash - self), self, name) < 0)
                return NULL;
        return ret;
}

/* Stages 2-5: the children, the user, the bus, the policy. */
static int start_and_lock_down(Manager *m, const Args *a, uid_t uid, gid_t gid) {
        _cleanup_free_ char *helper = find_binary(a->helper, NULL, PP_HELPER_INSTALL_PATH,
                                                  "patchpanel-helper");
        /* Beside the helper, when that was named (a build tree's). */
        _cleanup_free_ char *launcher = find_binary(a->launcher, a->helper,
                                                    PP_LAUNCHER_INSTALL_PATH, "patchpanel-launcher");
        unsigned line = 0;
        int r;

        if (!helper || !launcher)
                return log_error_errno(-ENOMEM, "Cannot find the helper or the launcher");
        r = manager_start_children(m,
                                   &(HelperArgs) { .path = helper, .log_level = a->log_level,
                                                   .seccomp = a->seccomp, .pools = &a->config.pools,
                                                   .lockdown_uid = a->config.lockdown_uid,
                                                   .tap_owner = a->config.tap_owner,
                                                   .uid_sources = &a->config.uid_sources },
                                   &(LauncherArgs) { .path = launcher, .log_level = a->log_level,
                                                     .seccomp = a->seccomp, .uid = uid, .gid = gid });
        if (r < 0)
                return log_error_errno(r, "Failed to start the helper and the launcher: %m");
        /* Signals and the link monitor while still root: its socket gets a receive buffer
         * beyond net.core.rmem_max, room for bursts of link events. */
        r = manager_setup(m);
        if (r < 0)
                return r;
        r = privs_drop_to_user(uid, gid, NULL, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to switch to user %s: %m", a->user);
        if (privs_set_no_new_privs() < 0)
                return log_error_errno(-errno, "Failed to set no_new_privs: %m");
#ifdef PP_SANITIZE
        /* LeakSanitizer inspects the process at exit; the uid change made it undumpable. */
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
        r = sd_bus_open_system(&m->bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = seccomp_policy_load(seccomp_policy_patchpaneld, a->seccomp, &line);
        if (r < 0)
                return log_error_errno(r, "Failed to load the seccomp policy (line %u): %m", line);
        return 0;
}

/* Each connected namespace holds its lifeline fd: allow as many as the hard limit does;
 * fds 0-2 must be taken, or a socket of ours could land there (or at 3, a child's). */
static int prepare_process(void) {
        struct rlimit rl;
        sigset_t mask;

        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
                        return -EBADF;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        log_warning_errno(-errno, "Failed to raise the fd limit, ignoring: %m");
        }
        /* sd-event takes these through signalfd/pidfd; block them before any child exists. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        return 0;
}

int main(int argc, char **argv) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sd_event *e = NULL;
        struct passwd *pw;
        /* Static: what the options allocate (the uplink patterns) lives as long as the
         * process and stays reachable, also when a later option is refused. */
        static Args args;
        int r;

        log_setup("patchpaneld");
        if (prepare_process() < 0 || parse_args(argc, argv, &args) < 0 || resolve_config(&args) < 0)
                return EXIT_FAILURE;
        if (geteuid() != 0) {
                log_error("patchpaneld must be started as root; it drops to --user=%s itself",
                          args.user);
                return EXIT_FAILURE;
        }
        pw = getpwnam(args.user);
        if (!pw) {
                log_error("No such user: %s (scripts/install-deps creates patchpaneld)", args.user);
                return EXIT_FAILURE;
        }
        if (pw->pw_uid == 0 || pw->pw_gid == 0) {
                log_error("--user must name an unprivileged user with an unprivileged group, "
                          "not %s", args.user);
                return EXIT_FAILURE;
        }

        r = sd_event_default(&e);
        if (r >= 0)
                r = manager_new(e, &args.config, &m);
        sd_event_unref(e);
        if (r < 0) {
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILURE;
        }
        if (start_and_lock_down(m, &args, pw->pw_uid, pw->pw_gid) < 0 || manager_bus_setup(m) < 0)
                return EXIT_FAILURE;
        r = manager_start(m);
        if (r < 0) {
                log_error_errno(r, "Failed to start the datapath: %m");
                return EXIT_FAILURE;
        }
        log_info("Running as %s, helper pid %d, launcher pid %d, seccomp %s", args.user,
                 (int) helper_link_pid(m->helper), (int) launcher_link_pid(m->launcher),
                 seccomp_mode_to_string(args.seccomp));
        r = sd_event_loop(m->event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return EXIT_FAILURE;
        }
        return r;
}
