/* SPDX-License-Identifier: BSD-3-Clause */
/* patchpanel-cli: the command line over libpatchpanel-client. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "addr.h"
#include "fwmark.h"
#include "macro.h"
#include "patchpanel-client.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: patchpanel-cli COMMAND [OPTIONS]\n\n"
                "Commands:\n"
                "  connect-ns --pid=PID [--outbound-ifname=IF] [--allow-user-traffic]\n"
                "             [--route-on-vpn] [--source=NAME] [--json]\n"
                "      Connect the network namespace of PID, print what was created, and\n"
                "      keep it connected until interrupted (Ctrl-C, SIGTERM).\n\n"
                "Sources: unknown chrome user arc crosvm pluginvm update_engine vpn system\n");
}

static const char *const proto_source_names[] = {
        "unknown", "chrome", "user", "arc", "crosvm", "pluginvm", "update_engine", "vpn", "system",
};

static int source_from_name(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(proto_source_names); i++)
                if (strcasecmp(s, proto_source_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

static void print_error(const char *what, int r, const PpError *err) {
        if (err->name[0])
                fprintf(stderr, "%s: %s: %s\n", what, err->name, err->message);
        else
                fprintf(stderr, "%s: %s\n", what, strerror(-r));
}

/* Wait for SIGINT/SIGTERM/SIGHUP, or for the daemon to drop the lifeline. */
static void hold_until_interrupted(int lifeline_fd) {
        sigset_t mask;
        int sfd;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0)
                return;
        struct pollfd p[2] = {
                { .fd = sfd, .events = POLLIN },
                { .fd = lifeline_fd, .events = 0 },
        };
        while (poll(p, 2, -1) < 0 && errno == EINTR)
                ;
        if (p[1].revents & (POLLHUP | POLLERR))
                fprintf(stderr, "The daemon closed the lifeline.\n");
        safe_close(sfd);
}

static int cmd_connect_ns(PpClient *c, int argc, char **argv) {
        enum { ARG_PID = 0x100, ARG_OUTBOUND, ARG_USER_TRAFFIC, ARG_VPN, ARG_SOURCE, ARG_JSON };
        static const struct option options[] = {
                { "pid", required_argument, NULL, ARG_PID },
                { "outbound-ifname", required_argument, NULL, ARG_OUTBOUND },
                { "allow-user-traffic", no_argument, NULL, ARG_USER_TRAFFIC },
                { "route-on-vpn", no_argument, NULL, ARG_VPN },
                { "source", required_argument, NULL, ARG_SOURCE },
                { "json", no_argument, NULL, ARG_JSON },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        PpConnectNamespaceOptions o = {};
        PpConnectedNamespace ns;
        PpError err = {};
        bool json = false;
        char s1[IPV4_STRLEN], s2[IPV4_STRLEN], s3[IPV4_STRLEN];
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case ARG_PID: {
                        char *end;
                        errno = 0;
                        long v = strtol(optarg, &end, 10);
                        if (errno || *end || v < -2147483647L || v > 2147483647L) {
                                fprintf(stderr, "Invalid --pid=%s\n", optarg);
                                return 2;
                        }
                        o.pid = (pid_t) v;
                        break;
                }
                case ARG_OUTBOUND:
                        o.outbound_ifname = optarg;
                        break;
                case ARG_USER_TRAFFIC:
                        o.allow_user_traffic = true;
                        break;
                case ARG_VPN:
                        o.route_on_vpn = true;
                        break;
                case ARG_SOURCE:
                        o.traffic_source = source_from_name(optarg);
                        if (o.traffic_source < 0) {
                                fprintf(stderr, "Unknown --source=%s\n", optarg);
                                return 2;
                        }
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        if (o.pid == 0) {
                fprintf(stderr, "connect-ns needs --pid=PID\n");
                return 2;
        }

        r = pp_client_connect_namespace(c, &o, &ns, &err);
        if (r < 0) {
                print_error("ConnectNamespace failed", r, &err);
                return 1;
        }

        ipv4_to_string(ns.subnet_base, s1);
        ipv4_to_string(ns.host_ipv4_address, s2);
        ipv4_to_string(ns.peer_ipv4_address, s3);
        if (json)
                printf("{\"subnet\": \"%s/%u\", \"host_ifname\": \"%s\", \"host_ipv4_address\": \"%s\", "
                       "\"peer_ifname\": \"%s\", \"peer_ipv4_address\": \"%s\"}\n",
                       s1, ns.prefix_len, ns.host_ifname, s2, ns.peer_ifname, s3);
        else
                printf("subnet             %s/%u\n"
                       "host_ifname        %s\n"
                       "host_ipv4_address  %s\n"
                       "peer_ifname        %s\n"
                       "peer_ipv4_address  %s\n",
                       s1, ns.prefix_len, ns.host_ifname, s2, ns.peer_ifname, s3);
        fflush(stdout);
        fprintf(stderr, "Connected; interrupt (Ctrl-C) to disconnect.\n");

        hold_until_interrupted(ns.lifeline_fd);
        safe_close(ns.lifeline_fd);
        return 0;
}

int main(int argc, char **argv) {
        PpClient *c = NULL;
        int r;

        if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        if (strcmp(argv[1], "connect-ns") != 0) {
                fprintf(stderr, "Unknown command: %s\n", argv[1]);
                usage(stderr);
                return 2;
        }

        r = pp_client_new(&c);
        if (r < 0) {
                fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
                return 1;
        }
        r = cmd_connect_ns(c, argc - 1, argv + 1);
        pp_client_free(c);
        return r;
}
