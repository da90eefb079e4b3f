/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * patchpaneld: the manager. The only process of the suite that speaks D-Bus and holds
 * policy; it never configures the kernel itself but asks patchpanel-helper.
 *
 * Theory of operation, each stage shrinking what the process can do:
 *   1. as root: parse arguments, resolve the user, block the signals the event loop takes;
 *   2. fork+exec the helper with a socketpair on fd 3, bounding/effective/permitted sets cut
 *      to NET_ADMIN, NET_RAW, SYS_ADMIN, SYS_PTRACE;
 *   3. switch to the unprivileged user keeping no effective capability (CAP_NET_RAW stays
 *      permitted+inheritable for the forwarders it will start), set no_new_privs;
 *   4. open what it needs: the system bus, the rtnetlink link monitor;
 *   5. load the seccomp policy, before the first byte from any client;
 *   6. own org.chromium.PatchPanel (refusing to run twice), ask the helper for the datapath,
 *      and serve until SIGTERM/SIGINT, which tear everything down.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "manager.h"
#include "privs.h"
#include "seccomp-policy.h"

#ifndef PP_HELPER_INSTALL_PATH
#define PP_HELPER_INSTALL_PATH "/usr/libexec/patchpanel/patchpanel-helper"
#endif

extern const char seccomp_policy_patchpaneld[];

typedef struct Args {
        const char *user;
        const char *helper;
        SeccompMode seccomp;
        const char *log_level;
        const char *pool_base;
        const char *netns_pool;
        const char *tap_user;
        const char *lockdown_user;
        char **uplinks;
        ManagerConfig config;
} Args;

static void usage(FILE *f) {
        fprintf(f,
                "Usage: patchpaneld [OPTIONS]\n"
                "Networking for the guests of this host (containers, VMs, namespaces), over\n"
                "D-Bus as org.chromium.PatchPanel. Runs in the foreground; must start as root.\n\n"
                "  --user=NAME            unprivileged user to run as (default: patchpaneld)\n"
                "  --helper=PATH          privileged helper (default: the installed one, else\n"
                "                         the one beside this binary)\n"
                "  --seccomp=enforce|log  kill, or only log, a syscall outside the policy\n"
                "                         (default: enforce)\n"
                "  --log-level=LEVEL      debug, info, notice, warning, error (default: info)\n"
                "  --pool-base=ADDR       start of the /23 the guest pools are cut from\n"
                "                         (default: 100.115.92.0)\n"
                "  --netns-pool=A/LxN     ConnectNamespace pool: N subnets of prefix L from A\n"
                "                         (default: the 16 /30s at pool base + 128)\n"
                "  --tap-user=NAME        owner of VM TAPs, who may open them (default: crosvm\n"
                "                         if that user exists, else root)\n"
                "  --uplinks=GLOB,...     interface names that count as uplinks\n"
                "                         (default: eth*,en*,usb*,wlan*,wl*,mlan*,wwan*,ww*,\n"
                "                         rmnet*,mbimmux*,qmapmux*)\n"
                "  --ingress-firewall=on|off\n"
                "                         drop new inbound connections on uplinks except to\n"
                "                         ports opened by ACCESS rules (default: off)\n"
                "  --lockdown-user=NAME   the one user that may connect to LOCKDOWN ports\n"
                "                         (default: chronos if that user exists, else root)\n"
                "  --uid-source=UID[-UID]=SOURCE\n"
                "                         count the host's traffic of these uids as SOURCE\n"
                "                         (chrome, user, update-engine, system, host-vpn);\n"
                "                         repeatable, later ones win (default: 1000-60000=user,\n"
                "                         the lockdown user=chrome, everyone else system)\n"
                "  -h, --help             this text\n");
}

static char **split_commas(const char *s) {
        size_t n = 1;
        char **l, *copy, *save = NULL;

        for (const char *p = s; *p; p++)
                n += *p == ',';
        l = calloc(n + 1, sizeof(char *));
        copy = strdup(s);
        if (!l || !copy) {
                free(l);
                free(copy);
                return NULL;
        }
        n = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                l[n++] = strdup(t);
        free(copy);
        return l;
}

static int parse_args(int argc, char **argv, Args *a) {
        enum { ARG_USER = 0x100, ARG_HELPER, ARG_SECCOMP, ARG_LOG_LEVEL, ARG_POOL_BASE,
               ARG_NETNS_POOL, ARG_UPLINKS, ARG_TAP_USER, ARG_INGRESS_FIREWALL,
               ARG_LOCKDOWN_USER, ARG_UID_SOURCE };
        /* --uid-source entries, applied after the defaults they override. */
        UidRange given[SOURCE_MAP_MAX];
        size_t n_given = 0;
        static const struct option options[] = {
                { "user", required_argument, NULL, ARG_USER },
                { "helper", required_argument, NULL, ARG_HELPER },
                { "seccomp", required_argument, NULL, ARG_SECCOMP },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "pool-base", required_argument, NULL, ARG_POOL_BASE },
                { "netns-pool", required_argument, NULL, ARG_NETNS_POOL },
                { "uplinks", required_argument, NULL, ARG_UPLINKS },
                { "tap-user", required_argument, NULL, ARG_TAP_USER },
                { "ingress-firewall", required_argument, NULL, ARG_INGRESS_FIREWALL },
                { "lockdown-user", required_argument, NULL, ARG_LOCKDOWN_USER },
                { "uid-source", required_argument, NULL, ARG_UID_SOURCE },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        uint32_t base = POOL_DEFAULT_BASE;
        int c, r;

        *a = (Args) { .user = "patchpaneld", .seccomp = SECCOMP_MODE_ENFORCE };
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_USER:
                        a->user = optarg;
                        break;
                case ARG_HELPER:
                        a->helper = optarg;
                        break;
                case ARG_SECCOMP:
                        a->seccomp = seccomp_mode_from_string(optarg);
                        if (a->seccomp < 0)
                                return log_error_errno(-EINVAL, "Invalid --seccomp=%s: enforce or log", optarg);
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --log-level=%s", optarg);
                        log_set_max_level(r);
                        a->log_level = optarg;
                        break;
                case ARG_POOL_BASE:
                        if (ipv4_parse(optarg, &base) < 0)
                                return log_error_errno(-EINVAL, "Invalid --pool-base=%s", optarg);
                        a->pool_base = optarg;
                        break;
                case ARG_NETNS_POOL:
                        a->netns_pool = optarg;
                        break;
                case ARG_TAP_USER:
                        a->tap_user = optarg;
                        break;
                case ARG_INGRESS_FIREWALL:
                        if (strcmp(optarg, "on") == 0)
                                a->config.ingress_firewall = true;
                        else if (strcmp(optarg, "off") == 0)
                                a->config.ingress_firewall = false;
                        else
                                return log_error_errno(-EINVAL, "Invalid --ingress-firewall=%s: on or off",
                                                       optarg);
                        break;
                case ARG_LOCKDOWN_USER:
                        a->lockdown_user = optarg;
                        break;
                case ARG_UID_SOURCE: {
                        UidRange *u = &given[n_given];
                        if (n_given >= ELEMENTSOF(given))
                                return log_error_errno(-E2BIG, "Too many --uid-source options");
                        if (source_map_parse_entry(optarg, &u->first, &u->last, &u->source) < 0)
                                return log_error_errno(-EINVAL, "Invalid --uid-source=%s: expected "
                                                       "UID[-UID]=SOURCE with a local source "
                                                       "(chrome, user, update-engine, system, host-vpn)",
                                                       optarg);
                        n_given++;
                        break;
                }
                case ARG_UPLINKS:
                        a->uplinks = split_commas(optarg);
                        if (!a->uplinks || !a->uplinks[0])
                                return log_error_errno(-EINVAL, "Invalid --uplinks=%s", optarg);
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        if (optind < argc) {
                usage(stderr);
                return -EINVAL;
        }

        r = pool_layout_init(&a->config.pools, base);
        if (r < 0)
                return log_error_errno(r, "--pool-base=%s is not /23 aligned", a->pool_base);
        if (a->netns_pool) {
                r = pool_config_parse(a->netns_pool, &a->config.pools.pools[POOL_NETNS]);
                if (r < 0)
                        return log_error_errno(r, "Invalid --netns-pool=%s: expected A.B.C.D/LENxCOUNT "
                                                  "with an aligned base", a->netns_pool);
        }
        r = pool_layout_validate(&a->config.pools);
        if (r < 0)
                return log_error_errno(r, "The address pools overlap or are invalid: %m");
        a->config.uplink_patterns = a->uplinks;

        if (a->tap_user) {
                struct passwd *pw = getpwnam(a->tap_user);
                if (!pw)
                        return log_error_errno(-ENOENT, "No such user for --tap-user: %s", a->tap_user);
                a->config.tap_owner = pw->pw_uid;
        } else {
                struct passwd *pw = getpwnam("crosvm");
                a->config.tap_owner = pw ? pw->pw_uid : 0;
        }

        if (a->lockdown_user) {
                struct passwd *pw = getpwnam(a->lockdown_user);
                if (!pw)
                        return log_error_errno(-ENOENT, "No such user for --lockdown-user: %s",
                                               a->lockdown_user);
                a->config.lockdown_uid = pw->pw_uid;
        } else {
                struct passwd *pw = getpwnam("chronos");
                a->config.lockdown_uid = pw ? pw->pw_uid : 0;
        }

        /* Regular users (Debian's UID_MIN..UID_MAX), then the browser-like lockdown user,
         * then what the command line says. */
        r = source_map_set(&a->config.uid_sources, 1000, 60000, TRAFFIC_SOURCE_USER);
        if (r >= 0 && a->config.lockdown_uid != 0)
                r = source_map_set(&a->config.uid_sources, a->config.lockdown_uid,
                                   a->config.lockdown_uid, TRAFFIC_SOURCE_CHROME);
        for (size_t i = 0; r >= 0 && i < n_given; i++)
                r = source_map_set(&a->config.uid_sources, given[i].first, given[i].last,
                                   given[i].source);
        if (r < 0)
                return log_error_errno(r, "The --uid-source ranges are too fragmented");
        return 0;
}

/* The helper binary: --helper, else the installed one, else beside our own binary. */
static int find_helper(const char *arg, char **ret) {
        char self[4096], *slash;
        ssize_t n;

        if (arg) {
                *ret = strdup(arg);
                return *ret ? 0 : -ENOMEM;
        }
        if (access(PP_HELPER_INSTALL_PATH, X_OK) == 0) {
                *ret = strdup(PP_HELPER_INSTALL_PATH);
                return *ret ? 0 : -ENOMEM;
        }
        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n < 0)
                return -errno;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (!slash)
                return -ENOENT;
        if (asprintf(ret, "%.*s/patchpanel-helper", (int) (slash - self), self) < 0)
                return -ENOMEM;
        return 0;
}

static int spawn_helper(const char *path, const Args *a, int *ret_fd, pid_t *ret_pid) {
        static const int helper_caps[] = {
                CAP_NET_ADMIN,  /* links, addresses, routes, nftables, sysctls */
                CAP_NET_RAW,    /* raw sockets handed to the forwarders later */
                CAP_SYS_ADMIN,  /* setns() into a client's network namespace */
                CAP_SYS_PTRACE, /* setns() through the pidfd of another user's process */
        };
        int fds[2], r;
        pid_t pid;

        if (access(path, X_OK) < 0)
                return log_error_errno(-errno, "Helper %s is not executable: %m", path);
        r = ipc_socketpair(fds);
        if (r < 0)
                return log_error_errno(r, "Failed to create the helper socket: %m");

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(fds[0]);
                safe_close(fds[1]);
                return log_error_errno(r, "Failed to fork the helper: %m");
        }
        if (pid == 0) {
                /* Fixed ones, then --lockdown-uid and one --uid-source per range. */
                static char *argv[16 + SOURCE_MAP_MAX];
                static char uid_args[SOURCE_MAP_MAX][64];
                char lockdown_arg[48];
                size_t n = 0;
                char fd_arg[32], level_arg[64] = "", base_arg[64] = "", pool_arg[96] = "";
                char seccomp_arg[32];
                sigset_t all;

                /* Fresh signal state; the helper's only inherited fd is its socket, as fd 3. */
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                /* Our end must not survive in the helper, or it would never see EOF. */
                if (fds[0] != 3)
                        safe_close(fds[0]);
                if (fds[1] == 3) {
                        if (fcntl(3, F_SETFD, 0) < 0)
                                _exit(127);
                } else if (dup2(fds[1], 3) < 0)
                        _exit(127);
                if (close_range(4, ~0U, 0) < 0)
                        _exit(127);
                if (privs_restrict_caps(helper_caps, ELEMENTSOF(helper_caps)) < 0) {
                        fprintf(stderr, "patchpaneld: cannot restrict the helper's capabilities\n");
                        _exit(127);
                }

                argv[n++] = (char *) "patchpanel-helper";
                argv[n++] = strcpy(fd_arg, "--ipc-fd=3");
                snprintf(seccomp_arg, sizeof seccomp_arg, "--seccomp=%s",
                         seccomp_mode_to_string(a->seccomp));
                argv[n++] = seccomp_arg;
                if (a->log_level) {
                        snprintf(level_arg, sizeof level_arg, "--log-level=%s", a->log_level);
                        argv[n++] = level_arg;
                }
                if (a->pool_base) {
                        snprintf(base_arg, sizeof base_arg, "--pool-base=%s", a->pool_base);
                        argv[n++] = base_arg;
                }
                if (a->netns_pool) {
                        snprintf(pool_arg, sizeof pool_arg, "--netns-pool=%s", a->netns_pool);
                        argv[n++] = pool_arg;
                }
                snprintf(lockdown_arg, sizeof lockdown_arg, "--lockdown-uid=%u",
                         (unsigned) a->config.lockdown_uid);
                argv[n++] = lockdown_arg;
                for (size_t i = 0; i < a->config.uid_sources.n; i++) {
                        const UidRange *u = &a->config.uid_sources.ranges[i];
                        snprintf(uid_args[i], sizeof uid_args[i], "--uid-source=%u-%u=%s",
                                 (unsigned) u->first, (unsigned) u->last,
                                 traffic_source_to_string(u->source));
                        argv[n++] = uid_args[i];
                }
                argv[n] = NULL;
                execv(path, argv);
                fprintf(stderr, "patchpaneld: cannot execute %s: %s\n", path, strerror(errno));
                _exit(127);
        }

        safe_close(fds[1]);
        *ret_fd = fds[0];
        *ret_pid = pid;
        return 0;
}

/* Each connected namespace holds its lifeline fd: allow as many as the hard limit does. */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        log_warning_errno(-errno, "Failed to raise the fd limit, ignoring: %m");
        }
}

static void strv_free(char **l) {
        if (!l)
                return;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
}

int main(int argc, char **argv) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *helper_path = NULL;
        struct passwd *pw;
        unsigned line = 0;
        sigset_t mask;
        Args args;
        int helper_fd = -EBADF, r;
        pid_t helper_pid = -1;

        log_setup("patchpaneld");
        /* fds 0-2 must be taken, or a socket of ours could land there (and at 3, where the
         * helper expects its own). */
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
                        return EXIT_FAILURE;
        if (parse_args(argc, argv, &args) < 0)
                return EXIT_FAILURE;
        raise_fd_limit();

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
        uid_t uid = pw->pw_uid;
        gid_t gid = pw->pw_gid;

        /* sd-event takes these through signalfd/pidfd; block them before any child exists. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);

        r = find_helper(args.helper, &helper_path);
        if (r < 0) {
                log_error_errno(r, "Cannot find patchpanel-helper: %m");
                return EXIT_FAILURE;
        }

        r = manager_new(&args.config, &m);
        if (r < 0) {
                log_error_errno(r, "Failed to set up: %m");
                return EXIT_FAILURE;
        }
        r = sd_event_default(&m->event);
        if (r < 0) {
                log_error_errno(r, "Failed to get an event loop: %m");
                return EXIT_FAILURE;
        }

        if (spawn_helper(helper_path, &args, &helper_fd, &helper_pid) < 0)
                return EXIT_FAILURE;
        r = manager_attach_helper(m, helper_fd, helper_pid);
        if (r < 0) {
                log_error_errno(r, "Failed to watch the helper: %m");
                return EXIT_FAILURE;
        }
        /* Signals and the link monitor while still root: its socket gets a receive buffer
         * beyond net.core.rmem_max, room for bursts of link events. */
        r = manager_setup(m);
        if (r < 0)
                return EXIT_FAILURE;

        r = privs_drop_to_user(uid, gid, (const int[]) { CAP_NET_RAW }, 1);
        if (r < 0) {
                log_error_errno(r, "Failed to switch to user %s: %m", args.user);
                return EXIT_FAILURE;
        }
        if (privs_set_no_new_privs() < 0) {
                log_error_errno(-errno, "Failed to set no_new_privs: %m");
                return EXIT_FAILURE;
        }
#ifdef PP_SANITIZE
        /* LeakSanitizer inspects the process at exit; the uid change made it undumpable. */
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif

        r = sd_bus_open_system(&m->bus);
        if (r < 0) {
                log_error_errno(r, "Failed to connect to the system bus: %m");
                return EXIT_FAILURE;
        }

        r = seccomp_policy_load(seccomp_policy_patchpaneld, args.seccomp, &line);
        if (r < 0) {
                log_error_errno(r, "Failed to load the seccomp policy (line %u): %m", line);
                return EXIT_FAILURE;
        }

        r = manager_bus_setup(m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_start_datapath(m);
        if (r < 0) {
                log_error_errno(r, "Failed to start the datapath: %m");
                return EXIT_FAILURE;
        }

        log_info("Running as %s, helper pid %d, seccomp %s", args.user, (int) helper_pid,
                 seccomp_mode_to_string(args.seccomp));
        r = sd_event_loop(m->event);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                r = EXIT_FAILURE;
        }
        strv_free(args.uplinks);
        return r;
}
