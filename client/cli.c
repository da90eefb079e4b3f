/* SPDX-License-Identifier: BSD-3-Clause */
/* patchpanel-cli: the command line over libpatchpanel-client. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "addr.h"
#include "macro.h"
#include "json.h"
#include "patchpanel-client.h"

static void usage(FILE *f) {
        fprintf(f,
                "Usage: patchpanel-cli COMMAND [OPTIONS]\n\n"
                "Commands:\n"
                "  connect-ns --pid=PID [--outbound-ifname=IF] [--allow-user-traffic]\n"
                "             [--route-on-vpn] [--source=NAME] [--json]\n"
                "      Connect the network namespace of PID, print what was created, and\n"
                "      keep it connected until interrupted (Ctrl-C, SIGTERM).\n"
                "  status [--json]           uplinks, guests, connected namespaces, pools,\n"
                "                            processes and the forwarders' counters\n"
                "  devices [--json]          the guest devices (GetDevices)\n"
                "  termina-vm start|stop --cid=CID [--json]\n"
                "  plugin-vm start|stop --id=ID [--subnet-index=N] [--json]\n"
                "  arc start|stop --pid=PID  the ARC container\n"
                "  arcvm start|stop --cid=CID [--json]\n"
                "  port-rule create|delete access|lockdown|forwarding tcp|udp PORT\n"
                "            [--ifname=IF] [--input-ip=ADDR] [--to=ADDR:PORT]\n"
                "      ACCESS opens PORT on uplink IF (every uplink without --ifname);\n"
                "      LOCKDOWN lets only the lockdown user reach loopback PORT; FORWARDING\n"
                "      sends PORT on IF (to ADDR only, with --input-ip) to a guest's ADDR:PORT.\n"
                "  counters [--device=IF]... [--json]\n"
                "      traffic per uplink and source since the counters' table was created\n"
                "  monitor [--json]\n"
                "      print NetworkDeviceChanged and NeighborReachabilityEvent signals as they\n"
                "      arrive, one line each (JSON lines with --json), until interrupted\n\n"
                "Sources: unknown chrome user arc crosvm pluginvm update_engine vpn system\n");
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
                        o.traffic_source = pp_traffic_source_from_string(optarg);
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

/* ---- guests, devices, status ----------------------------------------------------------- */

typedef struct GuestArgs {
        bool start;
        bool json;
        uint64_t id;       /* --cid, --id or --pid */
        bool have_id;
        int32_t subnet_index;
} GuestArgs;

/* ACTION then --cid/--id/--pid (id_name), [--subnet-index], [--json]. */
static int parse_guest_args(int argc, char **argv, const char *id_name, bool with_index,
                            GuestArgs *a) {
        *a = (GuestArgs) {};
        if (argc < 2 || (strcmp(argv[1], "start") != 0 && strcmp(argv[1], "stop") != 0)) {
                fprintf(stderr, "%s: expected start or stop\n", argv[0]);
                return -EINVAL;
        }
        a->start = strcmp(argv[1], "start") == 0;
        for (int i = 2; i < argc; i++) {
                const char *arg = argv[i], *v;
                size_t n = strlen(id_name);
                char *end;

                if (strcmp(arg, "--json") == 0) {
                        a->json = true;
                        continue;
                }
                if (strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, id_name, n) == 0 &&
                    arg[2 + n] == '=') {
                        v = arg + 3 + n;
                        errno = 0;
                        a->id = strtoull(v, &end, 10);
                        if (errno || *end || !*v || *v == '-') {
                                fprintf(stderr, "Invalid --%s=%s\n", id_name, v);
                                return -EINVAL;
                        }
                        a->have_id = true;
                        continue;
                }
                if (with_index && strncmp(arg, "--subnet-index=", 15) == 0) {
                        v = arg + 15;
                        errno = 0;
                        long x = strtol(v, &end, 10);
                        if (errno || *end || !*v || x < INT32_MIN || x > INT32_MAX) {
                                fprintf(stderr, "Invalid --subnet-index=%s\n", v);
                                return -EINVAL;
                        }
                        a->subnet_index = (int32_t) x;
                        continue;
                }
                fprintf(stderr, "%s: unknown option %s\n", argv[0], arg);
                return -EINVAL;
        }
        if (!a->have_id) {
                fprintf(stderr, "%s needs --%s=\n", argv[0], id_name);
                return -EINVAL;
        }
        return 0;
}

static void print_devices(const PpDevice *d, size_t n, bool json) {
        char a[IPV4_STRLEN], s[IPV4_STRLEN];

        if (json) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s{\"ifname\": \"%s\", \"guest_address\": \"%s\", "
                               "\"subnet\": \"%s/%u\", \"guest_type\": \"%s\"}",
                               i ? ", " : "", d[i].ifname, ipv4_to_string(d[i].ipv4_addr, a),
                               ipv4_to_string(d[i].subnet_base, s), d[i].prefix_len,
                               pp_guest_type_to_string(d[i].guest_type));
                printf("]\n");
                return;
        }
        printf("%-16s %-16s %-20s %s\n", "IFNAME", "GUEST ADDRESS", "SUBNET", "TYPE");
        for (size_t i = 0; i < n; i++) {
                char subnet[32];
                snprintf(subnet, sizeof subnet, "%s/%u", ipv4_to_string(d[i].subnet_base, s),
                         d[i].prefix_len);
                printf("%-16s %-16s %-20s %s\n", d[i].ifname, ipv4_to_string(d[i].ipv4_addr, a),
                       subnet, pp_guest_type_to_string(d[i].guest_type));
        }
}

static int finish(const char *what, int r, const PpError *err) {
        if (r < 0) {
                print_error(what, r, err);
                return 1;
        }
        return 0;
}

static int cmd_termina(PpClient *c, int argc, char **argv) {
        PpError err = {};
        PpDevice dev;
        GuestArgs a;
        uint32_t lxd, lxd_prefix;
        char s[IPV4_STRLEN];
        int r;

        if (parse_guest_args(argc, argv, "cid", false, &a) < 0 || a.id > UINT32_MAX)
                return 2;
        if (!a.start)
                return finish("TerminaVmShutdown", pp_client_termina_vm_shutdown(c, (uint32_t) a.id, &err), &err);
        r = pp_client_termina_vm_startup(c, (uint32_t) a.id, &dev, &lxd, &lxd_prefix, &err);
        if (r < 0)
                return finish("TerminaVmStartup", r, &err);
        print_devices(&dev, 1, a.json);
        if (!a.json)
                printf("container subnet %s/%u\n", ipv4_to_string(lxd, s), lxd_prefix);
        return 0;
}

static int cmd_plugin_vm(PpClient *c, int argc, char **argv) {
        PpError err = {};
        PpDevice dev;
        GuestArgs a;
        int r;

        if (parse_guest_args(argc, argv, "id", true, &a) < 0)
                return 2;
        if (!a.start)
                return finish("PluginVmShutdown", pp_client_plugin_vm_shutdown(c, a.id, &err), &err);
        r = pp_client_plugin_vm_startup(c, a.id, a.subnet_index, &dev, &err);
        if (r < 0)
                return finish("PluginVmStartup", r, &err);
        print_devices(&dev, 1, a.json);
        return 0;
}

static int cmd_arc(PpClient *c, int argc, char **argv) {
        PpError err = {};
        GuestArgs a;

        if (parse_guest_args(argc, argv, "pid", false, &a) < 0 || a.id > INT32_MAX)
                return 2;
        if (a.start)
                return finish("ArcStartup", pp_client_arc_startup(c, (pid_t) a.id, &err), &err);
        return finish("ArcShutdown", pp_client_arc_shutdown(c, (pid_t) a.id, &err), &err);
}

static int cmd_arcvm(PpClient *c, int argc, char **argv) {
        _cleanup_free_ PpDevice *devs = NULL;
        PpError err = {};
        size_t n;
        GuestArgs a;
        int r;

        if (parse_guest_args(argc, argv, "cid", false, &a) < 0 || a.id > UINT32_MAX)
                return 2;
        if (!a.start)
                return finish("ArcVmShutdown", pp_client_arc_vm_shutdown(c, (uint32_t) a.id, &err), &err);
        r = pp_client_arc_vm_startup(c, (uint32_t) a.id, &devs, &n, &err);
        if (r < 0)
                return finish("ArcVmStartup", r, &err);
        print_devices(devs, n, a.json);
        return 0;
}

static int cmd_devices(PpClient *c, int argc, char **argv) {
        _cleanup_free_ PpDevice *devs = NULL;
        PpError err = {};
        size_t n;
        bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
        int r;

        if (argc > (json ? 2 : 1)) {
                fprintf(stderr, "devices: unexpected %s\n", argv[json ? 2 : 1]);
                return 2;
        }
        r = pp_client_get_devices(c, &devs, &n, &err);
        if (r < 0)
                return finish("GetDevices", r, &err);
        print_devices(devs, n, json);
        return 0;
}

static void print_firewall(const JsonValue *fw) {
        const JsonValue *v;

        if (!fw)
                return;
        printf("Firewall\n  ingress firewall %s, lockdown uid %lld, %lld port rules, VPN bypass %s\n",
               json_get_bool(fw, "ingress_firewall") ? "on" : "off",
               json_get_int(fw, "lockdown_uid"), json_get_int(fw, "port_rules_count"),
               *json_get_string(fw, "vpn_bypass_uplink") ? json_get_string(fw, "vpn_bypass_uplink")
                                                         : "off");
        v = json_get(fw, "port_rules");
        if (v && v->child)
                printf("  %-11s %-5s %-16s %-6s %s\n", "TYPE", "PROTO", "INTERFACE", "PORT", "TO");
        for (const JsonValue *r = v ? v->child : NULL; r; r = r->next) {
                char iface[48], to[32] = "";
                snprintf(iface, sizeof iface, "%s%s%s",
                         *json_get_string(r, "ifname") ? json_get_string(r, "ifname") : "*",
                         *json_get_string(r, "input_dst_ip") ? "/" : "",
                         json_get_string(r, "input_dst_ip"));
                if (*json_get_string(r, "dst_ip"))
                        snprintf(to, sizeof to, "%s:%lld", json_get_string(r, "dst_ip"),
                                 json_get_int(r, "dst_port"));
                printf("  %-11s %-5s %-16s %-6lld %s%s\n", json_get_string(r, "type"),
                       json_get_string(r, "proto"), iface, json_get_int(r, "port"), to,
                       json_get_bool(r, "active") ? "" : " (pending)");
        }
        v = json_get(fw, "foreign_drops");
        for (const JsonValue *d = v ? v->child : NULL; d; d = d->next)
                printf("  WARNING: table %s %s, chain %s drops by default at hook %s:\n    %s\n",
                       json_get_string(d, "family"), json_get_string(d, "table"),
                       json_get_string(d, "chain"), json_get_string(d, "hook"),
                       json_get_string(d, "fix"));
}

/* The processes of the suite, and per forwarder the links it serves and its counters
 * (one line per link, "name=value" pairs; the process's own counters first). */
static void print_children(const JsonValue *children) {
        printf("Processes\n  %-20s %-9s %-8s %-7s %-9s %s\n", "NAME", "STATE", "PID", "STARTS",
               "FAILURES", "LAST END");
        for (const JsonValue *c = children ? children->child : NULL; c; c = c->next) {
                const JsonValue *links = json_get(c, "links"), *counters = json_get(c, "counters");
                long long restart = json_get_int(c, "restart_in_ms");

                printf("  %-20s %-9s %-8lld %-7lld %-9lld %s", json_get_string(c, "name"),
                       json_get_string(c, "state"), json_get_int(c, "pid"),
                       json_get_int(c, "starts"), json_get_int(c, "failures_in_a_row"),
                       *json_get_string(c, "last_end") ? json_get_string(c, "last_end") : "-");
                if (restart > 0)
                        printf(" (restart in %lld ms)", restart);
                putchar('\n');
                for (const JsonValue *l = links ? links->child : NULL; l; l = l->next)
                        printf("    serves %s behind %s\n", json_get_string(l, "guest"),
                               json_get_string(l, "uplink"));
                /* Counters grouped by link, in the order they came. */
                for (const JsonValue *k = counters ? counters->child : NULL; k; k = k->next) {
                        const char *link = json_get_string(k, "link");
                        bool first = true;

                        for (const JsonValue *p = counters->child; p != k; p = p->next)
                                if (strcmp(json_get_string(p, "link"), link) == 0)
                                        first = false;
                        if (!first)
                                continue;
                        printf("    %-12s", *link ? link : "(all)");
                        for (const JsonValue *p = k; p; p = p->next)
                                if (strcmp(json_get_string(p, "link"), link) == 0)
                                        printf(" %s=%lld", json_get_string(p, "name"),
                                               json_get_int(p, "value"));
                        putchar('\n');
                }
        }
}

/* The rows of a list of connected namespaces; how many. */
static size_t print_namespace_rows(const JsonValue *list) {
        size_t n = 0;

        for (const JsonValue *u = list ? list->child : NULL; u; u = u->next, n++)
                printf("  %-8lld %-12s %-12s %-20s %-10s %-10s %s\n", json_get_int(u, "pid"),
                       json_get_string(u, "host_ifname"), json_get_string(u, "peer_ifname"),
                       json_get_string(u, "subnet"), json_get_string(u, "source"),
                       *json_get_string(u, "outbound") ? json_get_string(u, "outbound") : "-",
                       json_get_string(u, "state"));
        return n;
}

/* Every connected namespace: those the status carries, then, when it carries only the
 * first of them, the rest a page at a time. Namespaces that come or go meanwhile may shift
 * the pages by one. Return: 0, or 1 when a page could not be had. */
static int print_connected_namespaces(PpClient *c, const JsonValue *st) {
        uint64_t offset, total;

        printf("Connected namespaces\n  %-8s %-12s %-12s %-20s %-10s %-10s %s\n", "PID", "HOST",
               "PEER", "SUBNET", "SOURCE", "OUTBOUND", "STATE");
        offset = print_namespace_rows(json_get(st, "connected_namespaces"));
        if (json_get_u64(st, "connected_namespaces_total", &total) < 0)
                return 0; /* a daemon that lists them all */
        while (offset < total && offset < UINT32_MAX) {
                _cleanup_free_ char *json = NULL;
                _cleanup_(json_freep) JsonValue *page = NULL;
                PpError err = {};
                size_t n;
                int r;

                r = pp_client_list_connected_namespaces(c, (uint32_t) offset,
                                                        PP_STATUS_NAMESPACES_PAGE_MAX, &json, &err);
                if (r < 0)
                        return finish("ListConnectedNamespaces", r, &err);
                r = json_parse(json, &page);
                if (r < 0) {
                        fprintf(stderr, "A page of connected namespaces does not parse: %s\n",
                                strerror(-r));
                        return 1;
                }
                n = print_namespace_rows(json_get(page, "connected_namespaces"));
                if (n == 0 || json_get_u64(page, "total", &total) < 0)
                        break; /* fewer than there were: the last went meanwhile */
                offset += n;
        }
        return 0;
}

static int print_status(PpClient *c, const JsonValue *st) {
        const JsonValue *v;
        const char *def = json_get_string(st, "default_interface");
        int r;

        printf("Uplinks\n  %-16s %-8s %-10s %-4s %-6s %s\n", "NAME", "IFINDEX", "TYPE", "UP",
               "TABLE", "DEFAULT");
        v = json_get(st, "uplinks");
        for (const JsonValue *u = v ? v->child : NULL; u; u = u->next)
                printf("  %-16s %-8lld %-10s %-4s %-6lld %s\n", json_get_string(u, "name"),
                       json_get_int(u, "ifindex"), json_get_string(u, "technology"),
                       json_get_bool(u, "up") ? "yes" : "no", json_get_int(u, "routing_table"),
                       strcmp(def, json_get_string(u, "name")) == 0 ? "*" : "");
        v = json_get(st, "vpn_links");
        if (v && v->child) {
                printf("VPN links\n");
                for (const JsonValue *u = v->child; u; u = u->next)
                        printf("  %-16s %s%s\n", json_get_string(u, "name"),
                               json_get_string(u, "kind"),
                               strcmp(def, json_get_string(u, "name")) == 0 ? " (default)" : "");
        }

        v = json_get(st, "neighbor_monitor");
        if (v && v->type == JSON_OBJECT) {
                const JsonValue *nbs = json_get(v, "neighbors");
                const char *src = json_get_string(v, "dns_source");
                printf("Watched neighbours (probed every %lld s; DNS servers from %s)\n"
                       "  %-16s %-40s %-22s %s\n", json_get_int(v, "probe_interval_ms") / 1000,
                       *src ? src : "nowhere", "UPLINK", "ADDRESS", "ROLE", "STATE");
                for (const JsonValue *n = nbs ? nbs->child : NULL; n; n = n->next)
                        printf("  %-16s %-40s %-22s %s%s\n", json_get_string(n, "uplink"),
                               json_get_string(n, "address"), json_get_string(n, "role"),
                               json_get_string(n, "state"),
                               json_get_bool(n, "failed") ? " (FAILED)" : "");
        }

        v = json_get(st, "arc");
        if (v && v->type == JSON_OBJECT) {
                bool vm = strcmp(json_get_string(v, "kind"), "vm") == 0;
                printf("ARC %s %s %lld, %s\n", vm ? "VM" : "container", vm ? "cid" : "pid",
                       json_get_int(v, vm ? "cid" : "pid"), json_get_string(v, "state"));
                const JsonValue *devs = json_get(v, "devices");
                for (const JsonValue *d = devs ? devs->child : NULL; d; d = d->next)
                        printf("  %-16s %-16s %s\n", json_get_string(d, "ifname"),
                               json_get_string(d, "guest_address"), json_get_string(d, "subnet"));
        } else
                printf("ARC not running\n");

        v = json_get(st, "vms");
        printf("VMs\n  %-9s %-10s %-9s %-10s %-20s %s\n", "KIND", "ID", "STATE", "TAP", "SUBNET",
               "CONTAINER SUBNET");
        for (const JsonValue *u = v ? v->child : NULL; u; u = u->next)
                printf("  %-9s %-10lld %-9s %-10s %-20s %s\n", json_get_string(u, "kind"),
                       json_get_int(u, "id"), json_get_string(u, "state"),
                       json_get_string(u, "tap"), json_get_string(u, "subnet"),
                       json_get_string(u, "container_subnet"));

        r = print_connected_namespaces(c, st);

        v = json_get(st, "pools");
        printf("Pools\n  %-10s %-28s %s\n", "NAME", "SUBNETS", "IN USE");
        for (const JsonValue *u = v ? v->child : NULL; u; u = u->next)
                printf("  %-10s %-28s %lld\n", json_get_string(u, "name"),
                       json_get_string(u, "subnets"), json_get_int(u, "in_use"));

        print_firewall(json_get(st, "firewall"));
        print_children(json_get(st, "children"));
        return r;
}

static int cmd_status(PpClient *c, int argc, char **argv) {
        _cleanup_free_ char *json = NULL;
        JsonValue *st = NULL;
        PpError err = {};
        bool as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
        int r;

        if (argc > (as_json ? 2 : 1)) {
                fprintf(stderr, "status: unexpected %s\n", argv[as_json ? 2 : 1]);
                return 2;
        }
        r = pp_client_get_status(c, &json, &err);
        if (r < 0)
                return finish("GetStatus", r, &err);
        if (as_json) {
                printf("%s\n", json);
                return 0;
        }
        r = json_parse(json, &st);
        if (r < 0) {
                fprintf(stderr, "The daemon's status does not parse: %s\n", strerror(-r));
                return 1;
        }
        r = print_status(c, st);
        json_free(st);
        return r;
}

/* ---- firewall and counters ------------------------------------------------------------- */

static int parse_u32(const char *s, uint32_t *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || !*s || *s == '-' || v > UINT32_MAX)
                return -EINVAL;
        /* Out-of-range ports go to the daemon, which refuses them: the CLI does not judge. */
        *ret = (uint32_t) v;
        return 0;
}

static int cmd_port_rule(PpClient *c, int argc, char **argv) {
        static const char *const types[] = { NULL, "access", "lockdown", "forwarding" };
        static const char *const protos[] = { NULL, "tcp", "udp" };
        PpPortRule rule = {};
        PpError err = {};
        char to_ip[32] = "";
        int r;

        if (argc < 5) {
                fprintf(stderr, "port-rule: expected create|delete TYPE PROTO PORT\n");
                return 2;
        }
        if (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "delete") != 0) {
                fprintf(stderr, "port-rule: expected create or delete, not %s\n", argv[1]);
                return 2;
        }
        rule.create = strcmp(argv[1], "create") == 0;
        for (size_t i = 1; i < ELEMENTSOF(types); i++)
                if (strcasecmp(argv[2], types[i]) == 0)
                        rule.type = (PpPortRuleType) i;
        for (size_t i = 1; i < ELEMENTSOF(protos); i++)
                if (strcasecmp(argv[3], protos[i]) == 0)
                        rule.proto = (PpProtocol) i;
        if (!rule.type || !rule.proto || parse_u32(argv[4], &rule.input_dst_port) < 0) {
                fprintf(stderr, "port-rule: expected access|lockdown|forwarding tcp|udp PORT\n");
                return 2;
        }
        for (int i = 5; i < argc; i++) {
                const char *a = argv[i];
                if (strncmp(a, "--ifname=", 9) == 0)
                        rule.input_ifname = a + 9;
                else if (strncmp(a, "--input-ip=", 11) == 0)
                        rule.input_dst_ip = a + 11;
                else if (strncmp(a, "--to=", 5) == 0) {
                        const char *colon = strrchr(a + 5, ':');
                        if (!colon || (size_t) (colon - (a + 5)) >= sizeof to_ip ||
                            parse_u32(colon + 1, &rule.dst_port) < 0) {
                                fprintf(stderr, "port-rule: --to expects ADDR:PORT\n");
                                return 2;
                        }
                        snprintf(to_ip, sizeof to_ip, "%.*s", (int) (colon - (a + 5)), a + 5);
                        rule.dst_ip = to_ip;
                } else {
                        fprintf(stderr, "port-rule: unknown option %s\n", a);
                        return 2;
                }
        }
        r = pp_client_modify_port_rule(c, &rule, &err);
        if (r < 0)
                return finish("ModifyPortRule", r, &err);
        if (r == 0) {
                fprintf(stderr, "The daemon refused the rule; its log says why.\n");
                return 1;
        }
        return 0;
}

static int cmd_counters(PpClient *c, int argc, char **argv) {
        _cleanup_free_ PpTrafficCounter *counters = NULL;
        _cleanup_free_ const char **devices = calloc((size_t) argc + 1, sizeof(char *));
        size_t n_devices = 0, n;
        PpError err = {};
        bool json = false;
        int r;

        if (!devices)
                return 1;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strncmp(argv[i], "--device=", 9) == 0)
                        devices[n_devices++] = argv[i] + 9;
                else {
                        fprintf(stderr, "counters: unknown option %s\n", argv[i]);
                        return 2;
                }
        }
        r = pp_client_get_traffic_counters(c, devices, n_devices, &counters, &n, &err);
        if (r < 0)
                return finish("GetTrafficCounters", r, &err);
        if (json) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s{\"device\": \"%s\", \"source\": \"%s\", \"rx_bytes\": %" PRIu64
                               ", \"rx_packets\": %" PRIu64 ", \"tx_bytes\": %" PRIu64
                               ", \"tx_packets\": %" PRIu64 "}",
                               i ? ", " : "", counters[i].device,
                               pp_traffic_source_to_string(counters[i].source) ?: "unknown",
                               counters[i].rx_bytes, counters[i].rx_packets, counters[i].tx_bytes,
                               counters[i].tx_packets);
                printf("]\n");
                return 0;
        }
        printf("%-16s %-14s %14s %12s %14s %12s\n", "DEVICE", "SOURCE", "RX BYTES", "RX PACKETS",
               "TX BYTES", "TX PACKETS");
        for (size_t i = 0; i < n; i++)
                printf("%-16s %-14s %14" PRIu64 " %12" PRIu64 " %14" PRIu64 " %12" PRIu64 "\n",
                       counters[i].device,
                       pp_traffic_source_to_string(counters[i].source) ?: "unknown",
                       counters[i].rx_bytes, counters[i].rx_packets, counters[i].tx_bytes,
                       counters[i].tx_packets);
        return 0;
}

/* ---- signals --------------------------------------------------------------------------- */

static void print_json_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;
                if (ch == '"' || ch == '\\')
                        printf("\\%c", ch);
                else if (ch < 0x20)
                        printf("\\u%04x", ch);
                else
                        putchar(ch);
        }
        putchar('"');
}

static void on_device_changed(const PpDevice *d, PpDeviceEvent event, void *userdata) {
        bool json = *(const bool *) userdata;
        char a[IPV4_STRLEN], s[IPV4_STRLEN];

        if (json) {
                printf("{\"signal\": \"NetworkDeviceChanged\", \"event\": \"%s\", \"ifname\": ",
                       pp_device_event_to_string(event));
                print_json_string(d->ifname);
                printf(", \"guest_address\": \"%s\", \"subnet\": \"%s/%u\", \"guest_type\": \"%s\"}\n",
                       ipv4_to_string(d->ipv4_addr, a), ipv4_to_string(d->subnet_base, s),
                       d->prefix_len, pp_guest_type_to_string(d->guest_type));
        } else
                printf("NetworkDeviceChanged %s ifname=%s guest_address=%s subnet=%s/%u "
                       "guest_type=%s\n", pp_device_event_to_string(event), d->ifname,
                       ipv4_to_string(d->ipv4_addr, a), ipv4_to_string(d->subnet_base, s),
                       d->prefix_len, pp_guest_type_to_string(d->guest_type));
        fflush(stdout);
}

static void on_neighbor_event(const PpNeighborEvent *e, void *userdata) {
        bool json = *(const bool *) userdata;

        if (json) {
                printf("{\"signal\": \"NeighborReachabilityEvent\", \"ifindex\": %d, \"ip_addr\": ",
                       e->ifindex);
                print_json_string(e->ip_addr);
                printf(", \"role\": \"%s\", \"type\": \"%s\"}\n",
                       pp_neighbor_role_to_string(e->role), pp_neighbor_event_type_to_string(e->type));
        } else
                printf("NeighborReachabilityEvent %s ifindex=%d ip_addr=%s role=%s\n",
                       pp_neighbor_event_type_to_string(e->type), e->ifindex, e->ip_addr,
                       pp_neighbor_role_to_string(e->role));
        fflush(stdout);
}

static int cmd_monitor(PpClient *c, int argc, char **argv) {
        bool json = argc > 1 && strcmp(argv[1], "--json") == 0;
        PpSignalHandlers h = { on_device_changed, on_neighbor_event, &json };
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask;
        int r;

        if (argc > (json ? 2 : 1)) {
                fprintf(stderr, "monitor: unexpected %s\n", argv[json ? 2 : 1]);
                return 2;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (sfd < 0) {
                fprintf(stderr, "Cannot watch signals: %s\n", strerror(errno));
                return 1;
        }
        r = pp_client_watch_signals(c, &h);
        if (r < 0) {
                fprintf(stderr, "Cannot subscribe to the daemon's signals: %s\n", strerror(-r));
                return 1;
        }
        /* Said once the bus has the match rules: from here on nothing is missed. */
        fprintf(stderr, "Monitoring; interrupt (Ctrl-C) to stop.\n");
        r = pp_client_dispatch_signals(c, sfd);
        if (r < 0) {
                fprintf(stderr, "Lost the bus: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

static const struct {
        const char *name;
        int (*fn)(PpClient *c, int argc, char **argv);
} commands[] = {
        { "connect-ns", cmd_connect_ns },
        { "status", cmd_status },
        { "devices", cmd_devices },
        { "termina-vm", cmd_termina },
        { "plugin-vm", cmd_plugin_vm },
        { "arc", cmd_arc },
        { "arcvm", cmd_arcvm },
        { "port-rule", cmd_port_rule },
        { "counters", cmd_counters },
        { "monitor", cmd_monitor },
};

int main(int argc, char **argv) {
        PpClient *c = NULL;
        int r;

        if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (strcmp(argv[1], commands[i].name) != 0)
                        continue;
                r = pp_client_new(&c);
                if (r < 0) {
                        fprintf(stderr, "Cannot connect to the system bus: %s\n", strerror(-r));
                        return 1;
                }
                r = commands[i].fn(c, argc - 1, argv + 1);
                pp_client_free(c);
                return r;
        }
        fprintf(stderr, "Unknown command: %s\n", argv[1]);
        usage(stderr);
        return 2;
}
