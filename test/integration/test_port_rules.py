"""ModifyPortRule end to end: D-Bus requests, the elements of the nftables sets and maps
they become, and real traffic through them.

* FORWARDING: DNAT of an uplink's port to a guest (a connected namespace, the ARC
  container), TCP and UDP, ahead of ARC's catch-all DNAT, optionally only for one
  destination address.
* ACCESS: with the ingress firewall on (the labs' default), the host's own ports are closed
  to the uplinks until an ACCESS rule opens them, per protocol, per uplink or on all.
* LOCKDOWN: only the lockdown user may connect to a loopback port; everyone else gets a
  reset (TCP) or port unreachable (UDP).
* Bad requests and wrong states answer success=false, change nothing, and say why in the
  log.

The lab has two uplinks: eth0 (lan, 192.0.2.1 <-> 192.0.2.2, the default route) and eth1
(lan2, 198.51.100.1 <-> 198.51.100.2). Traffic is asked with PROBE, which asks many
(address, port, protocol) at once and tells an answer from a refusal from silence."""

import ipaddress
import json
import re
import subprocess
import time

import pytest

import pplab

LAB_UPLINKS = 2  # the conftest lab gets eth1 <-> lan2 too

HOST = pplab.HOST_UPLINK_ADDR     # 192.0.2.2 on eth0
HOST2 = pplab.HOST_UPLINK2_ADDR   # 198.51.100.2 on eth1
EXTRA_ADDR = "192.0.2.3"          # a second address of eth0, for input_dst_ip
# Some address of the ConnectNamespace pool, for requests that never reach traffic.
GUEST = "100.115.92.130"
RULE_SETS = ("access", "access_any", "port_fwd", "port_fwd_ip", "lockdown")

# How long an ask waits: for an answer, and where silence is what the test expects (a drop
# cannot be seen sooner; a port that should be closed but answers does so in milliseconds).
ANSWER_WAIT = 3.0
QUIET_WAIT = 1.0

# Ask many (address, port, "tcp"/"udp", seconds to wait) at once, each on its own connected
# socket; print for each [what happened, seconds it took, errno of a failed UDP send or 0]:
# what happened is the answer's text, "refused" (a TCP reset or an ICMP port unreachable:
# ECONNREFUSED), "timeout" (silence), or "error <errno>". An address with a colon is IPv6.
PROBE = """
import json, socket, sys, threading, time
asks = json.loads(sys.argv[1])
out = [None] * len(asks)
def ask(i, addr, port, proto, timeout):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                      socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
    s.settimeout(timeout)
    start = time.monotonic()
    send_error = 0
    try:
        s.connect((addr, port))
        if proto == "udp":
            try:
                s.send(b"?")
            except OSError as e:
                # A datagram dropped in the output hook fails its send (EPERM), but the
                # ICMP error a reject sends still comes: look for it.
                send_error = e.errno
        what = s.recv(512).decode().strip()
    except socket.timeout:
        what = "timeout"
    except ConnectionRefusedError:
        what = "refused"
    except OSError as e:
        what = f"error {e.errno}"
    finally:
        s.close()
    out[i] = [what, time.monotonic() - start, send_error]
threads = [threading.Thread(target=ask, args=(i, *a)) for i, a in enumerate(asks)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(out))
"""


# A name server for IPv6 only (so it can share a port with pplab's IPv4 one): it answers
# "<name>" on TCP and UDP.
NAME_SERVER6 = """
import socket, sys, threading
name, port = sys.argv[1], int(sys.argv[2])
def sock(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::", port))
    return s
def tcp(s):
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.sendall(f"{name}\\n".encode())
        c.close()
t, u = sock(socket.SOCK_STREAM), sock(socket.SOCK_DGRAM)
threading.Thread(target=tcp, args=(t,), daemon=True).start()
while True:
    _, peer = u.recvfrom(512)
    u.sendto(f"{name}\\n".encode(), peer)
"""


def name_server6(ns, name, port):
    """Start NAME_SERVER6 in ns and wait until it listens; it ends with ns.delete() or
    earlier by kill() on the returned Popen."""
    p = ns.spawn("/usr/bin/python3", "-c", NAME_SERVER6, name, port, stdout=subprocess.DEVNULL)

    def listening():
        for flags in ("-Hltn6", "-Hlun6"):
            if not ns.out("ss", flags, f"sport = :{port}").strip():
                return f"nothing listens ({flags})"
        return None
    err = pplab.poll(listening, timeout=5, what=f"IPv6 port {port} in {ns.name}")
    assert err is None, err
    return p


def probe_many(jobs):
    """Run PROBE in several namespaces at once. jobs: [(ns, {(addr, port, proto): seconds to
    wait}, uid or None)]; returns for each {(addr, port, proto): (what happened, seconds,
    send errno)}."""
    procs = []
    try:
        for ns, asks, uid in jobs:
            args = json.dumps([[*k, wait] for k, wait in asks.items()])
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", ns.name, *pplab.as_uid(uid), "/usr/bin/python3", "-c",
                 PROBE, args],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True))
        out = []
        for (ns, asks, _), p in zip(jobs, procs):
            stdout, stderr = p.communicate(timeout=max(asks.values(), default=0) * 2 + 30)
            assert p.returncode == 0, f"probe failed in {ns.name}: {stdout}{stderr}"
            out.append({k: tuple(r) for k, r in zip(asks, json.loads(stdout))})
        return out
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def probe_timed(ns, asks, uid=None, wait=ANSWER_WAIT):
    """{(addr, port, proto): (what happened, seconds, send errno)} of asking each of asks
    from ns (as uid, if given)."""
    return probe_many([(ns, {k: wait for k in asks}, uid)])[0]


def probe(ns, asks, uid=None, wait=ANSWER_WAIT):
    """{(addr, port, proto): what happened} (see PROBE)."""
    return {k: v[0] for k, v in probe_timed(ns, asks, uid, wait).items()}


def expect(*checks, uid=None, what=""):
    """checks: ns, expected, ns, expected...: probe every key of each expected from its ns,
    all at once, and compare. Silence expected is waited for QUIET_WAIT. An answer expected
    but missing is asked again a few times (the machine is shared and may be slow)."""
    pairs = list(zip(checks[::2], checks[1::2]))

    def waits(expected):
        return {k: QUIET_WAIT if v == "timeout" else ANSWER_WAIT for k, v in expected.items()}
    got = [{k: v[0] for k, v in r.items()}
           for r in probe_many([(ns, waits(e), uid) for ns, e in pairs])]
    for _ in range(3):
        retry = [(i, {k: v for k, v in e.items() if got[i][k] != v and v not in
                      ("timeout", "refused")}) for i, (_, e) in enumerate(pairs)]
        retry = [(i, r) for i, r in retry if r]
        if not retry:
            break
        time.sleep(0.2)
        again = probe_many([(pairs[i][0], waits(r), uid) for i, r in retry])
        for (i, _), r in zip(retry, again):
            got[i].update({k: v[0] for k, v in r.items()})
    for (ns, expected), g in zip(pairs, got):
        assert g == expected, f"{what}: from {ns.name}: got {g}"


def both(addr, port, tcp, udp=None):
    """The expected results of asking addr:port over TCP and UDP."""
    return {(addr, port, "tcp"): tcp, (addr, port, "udp"): tcp if udp is None else udp}


def rule_elements(lab):
    """The elements of our rule sets and maps (RULE_SETS), each as a set: keys, and
    (key, value) in a map."""
    return {name: {k if v is None else (k, v) for k, v in lab.nft_elements(name).items()}
            for name in RULE_SETS}


def nft_rule_elements(lab, name):
    """The elements of one of RULE_SETS (see rule_elements())."""
    return rule_elements(lab)[name]


def rules_state(lab):
    """What a refused request must not change: the elements of every rule set and the
    daemon's count of rules."""
    state = rule_elements(lab)
    state["count"] = lab.status()["firewall"]["port_rules_count"]
    return state


def new_log(lab, start):
    """What the daemon logged after offset start (a length of lab.log())."""
    return lab.log()[start:]


def wait_logged(lab, start, fragment, timeout=2.0):
    err = pplab.poll(lambda: None if fragment in new_log(lab, start) else "not logged",
                     timeout=timeout, what=f"log line {fragment!r}")
    assert err is None, f"{err}; logged since:\n{new_log(lab, start)}"


class Guest:
    """A namespace connected with ConnectNamespace: (ns, address) and its lifeline."""

    def __init__(self, lab):
        self.lab = lab
        self.ns, proc = lab.client()
        resp, self.lifeline = lab.connect_namespace(proc.pid)
        self.addr = pplab.wire_to_ip(resp.peer_ipv4_address)

    def close(self):
        self.lifeline.close()
        self.ns.delete()
        self.lab.clients.remove(self.ns)


@pytest.fixture
def guests(lab):
    made = []

    def make():
        g = Guest(lab)
        made.append(g)
        return g
    yield make
    for g in made:
        g.close()


@pytest.fixture
def rules(lab):
    """Rules a test creates (create(...) asserts success), deleted at its end if still
    there; delete(...) deletes one and asserts success."""
    class Rules:
        def __init__(self):
            self.live = []

        def create(self, rule_type, proto, port, **kw):
            assert lab.modify_port_rule("create", rule_type, proto, port, **kw), \
                f"CREATE {rule_type} {proto} {port} {kw} failed:\n{lab.log()[-2000:]}"
            self.live.append((rule_type, proto, port, kw))

        def delete(self, rule_type, proto, port, **kw):
            assert lab.modify_port_rule("delete", rule_type, proto, port, **kw), \
                f"DELETE {rule_type} {proto} {port} {kw} failed:\n{lab.log()[-2000:]}"
            self.live.remove((rule_type, proto, port, kw))

    r = Rules()
    yield r
    for rule_type, proto, port, kw in reversed(r.live):
        lab.modify_port_rule("delete", rule_type, proto, port, **kw)


@pytest.fixture
def servers():
    """Popen objects of servers a test starts, killed at its end."""
    procs = []
    yield procs
    for p in procs:
        p.kill()
        p.wait()


# ---- FORWARDING ------------------------------------------------------------------------------

def test_forwarding_reaches_a_connected_namespace_until_deleted(lab, baseline, guests, rules,
                                                                servers):
    port, dst_port = 8180, 9180
    g = guests()
    servers.append(g.ns.name_server("ns", dst_port))
    from_lan = {**both(HOST, port, "timeout"), **both(HOST, dst_port, "timeout")}
    expect(lab.lan, from_lan, what="before any rule (the ingress firewall drops)")

    for proto in ("tcp", "udp"):
        rules.create("forwarding", proto, port, ifname="eth0", dst_ip=g.addr, dst_port=dst_port)
    assert nft_rule_elements(lab, "port_fwd") == {
        (("eth0", "tcp", port), (g.addr, dst_port)), (("eth0", "udp", port), (g.addr, dst_port))}
    # Only on eth0: lan2's packets to eth1 are not forwarded.
    expect(lab.lan, {**both(HOST, port, f"ns {g.addr}"), **both(HOST, dst_port, "timeout")},
           lab.lan2, both(HOST2, port, "timeout"), what="forwarded on eth0")

    rules.delete("forwarding", "tcp", port, ifname="eth0", dst_ip=g.addr, dst_port=dst_port)
    expect(lab.lan, both(HOST, port, "timeout", f"ns {g.addr}"), what="TCP rule deleted")
    rules.delete("forwarding", "udp", port, ifname="eth0", dst_ip=g.addr, dst_port=dst_port)
    expect(lab.lan, both(HOST, port, "timeout"), what="both rules deleted")
    assert nft_rule_elements(lab, "port_fwd") == set()


def test_forwarding_with_input_dst_ip_matches_only_that_address(lab, baseline, guests, rules,
                                                                 servers):
    port = 8181
    a, b = guests(), guests()
    servers += [a.ns.name_server("a", port), b.ns.name_server("b", port)]
    lab.host.out("ip", "addr", "add", f"{EXTRA_ADDR}/24", "dev", "eth0")
    try:
        for proto in ("tcp", "udp"):
            rules.create("forwarding", proto, port, ifname="eth0", input_dst_ip=EXTRA_ADDR,
                         dst_ip=b.addr, dst_port=port)
        assert nft_rule_elements(lab, "port_fwd_ip") == {
            (("eth0", p, EXTRA_ADDR, port), (b.addr, port)) for p in ("tcp", "udp")}
        expect(lab.lan, {**both(EXTRA_ADDR, port, f"b {b.addr}"), **both(HOST, port, "timeout")},
               what=f"only {EXTRA_ADDR} is forwarded")

        # A rule for any address of eth0 too: the one naming the address still wins there.
        for proto in ("tcp", "udp"):
            rules.create("forwarding", proto, port, ifname="eth0", dst_ip=a.addr, dst_port=port)
        expect(lab.lan, {**both(EXTRA_ADDR, port, f"b {b.addr}"),
                         **both(HOST, port, f"a {a.addr}")},
               what="both rules")

        for proto in ("tcp", "udp"):
            rules.delete("forwarding", proto, port, ifname="eth0", input_dst_ip=EXTRA_ADDR,
                         dst_ip=b.addr, dst_port=port)
        assert nft_rule_elements(lab, "port_fwd_ip") == set()
        expect(lab.lan, {**both(EXTRA_ADDR, port, f"a {a.addr}"),
                         **both(HOST, port, f"a {a.addr}")},
               what="the address's rule deleted")
        for proto in ("tcp", "udp"):
            rules.delete("forwarding", proto, port, ifname="eth0", dst_ip=a.addr, dst_port=port)
        expect(lab.lan, {**both(EXTRA_ADDR, port, "timeout"), **both(HOST, port, "timeout")},
               what="all deleted")
    finally:
        lab.host.exec("ip", "addr", "del", f"{EXTRA_ADDR}/24", "dev", "eth0")


def test_forwarding_wins_over_arcs_catch_all(lab, baseline, guests, rules, servers):
    """ARC gets every inbound connection the host does not take (its catch-all DNAT); a
    FORWARDING rule comes first, whether it names a connected namespace or ARC itself."""
    port, arc_port, arc_dst = 8182, 8183, 9183
    arc = pplab.ArcContainer(lab, ("eth0", "eth1"))
    try:
        guest, _, _ = arc.link("eth0")
        arc.route("192.0.2.0/24", "eth0")
        servers += [arc.ns.name_server("arc", port), arc.ns.name_server("arc-fwd", arc_dst)]
        g = guests()
        servers.append(g.ns.name_server("ns", port))
        expect(lab.lan, {**both(HOST, port, f"arc {guest}"),
                         **both(HOST, arc_port, "refused")},  # nothing listens on ARC's 8183
               what="ARC's catch-all")

        for proto in ("tcp", "udp"):
            rules.create("forwarding", proto, port, ifname="eth0", dst_ip=g.addr, dst_port=port)
            rules.create("forwarding", proto, arc_port, ifname="eth0", dst_ip=guest,
                         dst_port=arc_dst)
        expect(lab.lan, {**both(HOST, port, f"ns {g.addr}"),
                         **both(HOST, arc_port, f"arc-fwd {guest}")},
               what="the forwards, not the catch-all")

        for proto in ("tcp", "udp"):
            rules.delete("forwarding", proto, port, ifname="eth0", dst_ip=g.addr, dst_port=port)
            rules.delete("forwarding", proto, arc_port, ifname="eth0", dst_ip=guest,
                         dst_port=arc_dst)
        expect(lab.lan, {**both(HOST, port, f"arc {guest}"), **both(HOST, arc_port, "refused")},
               what="ARC's catch-all again")
    finally:
        arc.close()


# ---- ACCESS and the ingress firewall ---------------------------------------------------------

def test_access_opens_the_hosts_ports_per_protocol_and_uplink(lab, baseline, rules, servers):
    """eth0's rule opens a port on eth0 only, an ifname-less one on every uplink; each only
    for its protocol."""
    p1, p2 = 8184, 8185
    servers.append(lab.host.name_server("host", p1, p2))

    def asks(lan_tcp_p1, lan_udp_p2, lan2_udp_p2):
        return ({**both(HOST, p1, lan_tcp_p1, "timeout"), **both(HOST, p2, "timeout", lan_udp_p2)},
                {**both(HOST2, p1, "timeout"), **both(HOST2, p2, "timeout", lan2_udp_p2)})
    closed = asks("timeout", "timeout", "timeout")
    expect(lab.lan, closed[0], lab.lan2, closed[1], what="closed")

    rules.create("access", "tcp", p1, ifname="eth0")
    rules.create("access", "udp", p2)
    assert nft_rule_elements(lab, "access") == {("eth0", "tcp", p1)}
    assert nft_rule_elements(lab, "access_any") == {("udp", p2)}
    opened = asks(f"host {HOST}", f"host {HOST}", f"host {HOST2}")
    expect(lab.lan, opened[0], lab.lan2, opened[1], what="opened")

    rules.delete("access", "tcp", p1, ifname="eth0")
    rules.delete("access", "udp", p2)
    assert nft_rule_elements(lab, "access") == set()
    assert nft_rule_elements(lab, "access_any") == set()
    expect(lab.lan, closed[0], lab.lan2, closed[1], what="closed again")


LAN6, HOST6 = "2001:db8:1::1", "2001:db8:1::2"


def test_access_opens_ipv6_ports_too(lab, baseline, rules, servers):
    """The ingress firewall and ACCESS are for both families (the original added each rule
    with iptables and ip6tables)."""
    port = 8194
    lab.lan.out("ip", "addr", "add", f"{LAN6}/64", "dev", "lan0", "nodad")
    lab.host.out("ip", "addr", "add", f"{HOST6}/64", "dev", "eth0", "nodad")
    try:
        servers.append(name_server6(lab.host, "host6", port))
        expect(lab.lan, both(HOST6, port, "timeout"), what="closed over IPv6")
        rules.create("access", "tcp", port, ifname="eth0")
        rules.create("access", "udp", port)
        expect(lab.lan, both(HOST6, port, "host6"), what="opened over IPv6")
        rules.delete("access", "tcp", port, ifname="eth0")
        rules.delete("access", "udp", port)
        expect(lab.lan, both(HOST6, port, "timeout"), what="closed again over IPv6")
    finally:
        lab.host.exec("ip", "addr", "del", f"{HOST6}/64", "dev", "eth0")
        lab.lan.exec("ip", "addr", "del", f"{LAN6}/64", "dev", "lan0")


def test_ingress_firewall_lets_icmp_answers_dhcp_and_guests_through(lab, baseline, guests,
                                                                   servers):
    port = 8186
    assert lab.lan.ping(HOST), "ICMP needs no rule"
    assert lab.lan2.ping(HOST2), "ICMP needs no rule"
    # Answers to the host's own connections and datagrams (established), and the TCP reset
    # or ICMP port unreachable (related) that tell it a port of the lan is closed.
    servers.append(lab.lan.name_server("lan", port))
    expect(lab.host, {**both(pplab.LAN_ADDR, port, f"lan {pplab.LAN_ADDR}"),
                      **both(pplab.LAN_ADDR, port + 1, "refused")},
           what="answers to the host")
    # Guests are not uplinks: they reach the host's ports without a rule; the lan does not.
    # The DHCP client's port is open: nothing listens there, and the lan hears so (a port
    # unreachable) where another port stays silent.
    servers.append(lab.host.name_server("host", port))
    g = guests()
    gateway = str(ipaddress.ip_address(g.addr) - 1)
    expect(g.ns, both(gateway, port, f"host {gateway}"),
           lab.lan, {**both(HOST, port, "timeout"), (HOST, 68, "udp"): "refused",
                     (HOST, 67, "udp"): "timeout"},
           what="from a guest and from the lan")


def test_without_the_ingress_firewall_ports_are_open(fresh_lab):
    lab = fresh_lab(ingress_firewall=False)
    port = 8187
    chains = [i["chain"]["name"] for i in lab.host.nft_json("list", "table", "inet",
                                                             "patchpanel")["nftables"]
              if "chain" in i]
    assert "input" not in chains, chains
    lab.host.name_server("host", port)
    expect(lab.lan, both(HOST, port, f"host {HOST}"), what="no firewall, no rule")
    # ACCESS rules are still kept, and change nothing.
    assert lab.modify_port_rule("create", "access", "tcp", port, ifname="eth0")
    assert nft_rule_elements(lab, "access") == {("eth0", "tcp", port)}
    expect(lab.lan, both(HOST, port, f"host {HOST}"), what="no firewall, a rule")
    assert lab.modify_port_rule("delete", "access", "tcp", port, ifname="eth0")
    assert nft_rule_elements(lab, "access") == set()


# ---- LOCKDOWN --------------------------------------------------------------------------------

NOBODY = 65534


def test_lockdown_lets_only_the_lockdown_user_connect(fresh_lab):
    lab = fresh_lab(daemon_args=["--lockdown-user=nobody"])
    assert lab.status()["firewall"]["lockdown_uid"] == NOBODY
    port = 8188
    lab.host.name_server("host", port)
    name_server6(lab.host, "host6", port)
    loopback = "127.0.0.1"
    open_ = {**both(loopback, port, f"host {loopback}"), **both("::1", port, "host6")}
    expect(lab.host, open_, what="root, before any rule")
    expect(lab.host, open_, uid=NOBODY, what="nobody, before any rule")

    assert lab.modify_port_rule("create", "lockdown", "tcp", port)
    assert nft_rule_elements(lab, "lockdown") == {("tcp", port)}
    expect(lab.host, {**both(loopback, port, "refused", f"host {loopback}"),
                      **both("::1", port, "refused", "host6")}, what="root, TCP locked down")
    expect(lab.host, open_, uid=NOBODY, what="nobody, TCP locked down")

    assert lab.modify_port_rule("create", "lockdown", "udp", port)
    assert nft_rule_elements(lab, "lockdown") == {("tcp", port), ("udp", port)}
    got = probe_timed(lab.host, open_)
    assert {k: v[0] for k, v in got.items()} == {k: "refused" for k in open_}, got
    # Refused by a reset or a port unreachable, not left to time out. (The UDP send itself
    # fails with EPERM, as with iptables' REJECT in OUTPUT: the reject drops the datagram
    # in the output hook; the port unreachable comes all the same.)
    assert all(v[1] < 1.5 for v in got.values()), got
    expect(lab.host, open_, uid=NOBODY, what="nobody, both locked down")

    assert lab.modify_port_rule("delete", "lockdown", "tcp", port)
    assert lab.modify_port_rule("delete", "lockdown", "udp", port)
    assert nft_rule_elements(lab, "lockdown") == set()
    expect(lab.host, open_, what="root, rules deleted")

    # A rule does not outlive the daemon: root is not locked out of the port for good.
    assert lab.modify_port_rule("create", "lockdown", "tcp", port)
    _, helper = lab.daemon_pids()
    assert lab.stop_daemon() == 0, lab.log()
    assert helper is None or lab.helper_gone(helper), "the helper outlived the manager"
    assert lab.host.exec("nft", "list", "table", "inet", "patchpanel").returncode != 0
    expect(lab.host, open_, what="root, daemon stopped")


# ---- bad requests ----------------------------------------------------------------------------

FWD = {"ifname": "eth0", "dst_ip": GUEST, "dst_port": 1}

# The rules that a request whose port or interface were cut short could hit: port 1 is
# 65537 in 16 bits. They exist while bad requests are made, and must survive them.
SENTINELS = [("access", "tcp", 1, {"ifname": "eth0"}), ("access", "tcp", 1, {}),
             ("lockdown", "tcp", 1, {}), ("forwarding", "tcp", 1, FWD),
             ("access", "tcp", 1, {"ifname": "eth0123456789ab"})]


@pytest.fixture
def sentinels(lab, baseline, rules):
    for rule_type, proto, port, kw in SENTINELS:
        rules.create(rule_type, proto, port, **kw)
    return rules


BAD_IPS = ["1.2.3", "256.0.0.1", "abc", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "::1",
           "01.2.3.4"]
BAD_IFNAMES = ["eth0/", "-eth0", "eth0-", "eth0.", ".eth0", "eth0123456789abc", "eth 0",
               'eth0"', "eth0;", "eth\u00e9", "*"]

# (id, rule_type, proto, port, fields, what the log says after "request refused: ")
BAD = [
    ("type-0", 0, "tcp", 1, {}, "rule type 0 is not ACCESS, LOCKDOWN or FORWARDING"),
    ("type-4", 4, "tcp", 1, {}, "rule type 4 is not ACCESS, LOCKDOWN or FORWARDING"),
    ("proto-0", "access", 0, 1, {}, "protocol 0 is neither TCP nor UDP"),
    ("proto-3", "access", 3, 1, {}, "protocol 3 is neither TCP nor UDP"),
    ("fwd-proto-0", "forwarding", 0, 1, FWD, "protocol 0 is neither TCP nor UDP"),
]
for t, kw in (("access", {}), ("access", {"ifname": "eth0"}), ("lockdown", {}),
              ("forwarding", FWD)):
    name = t + ("-eth0" if kw.get("ifname") and t == "access" else "")
    BAD += [
        (f"{name}-port-0", t, "tcp", 0, kw, "input_dst_port is 0"),
        (f"{name}-port-65536", t, "tcp", 65536, kw, "input_dst_port 65536 is above 65535"),
        (f"{name}-port-65537", t, "tcp", 65537, kw, "input_dst_port 65537 is above 65535"),
        (f"{name}-port-4294967295", t, "tcp", 2**32 - 1, kw,
         "input_dst_port 4294967295 is above 65535"),
    ]
BAD += [
    ("fwd-dst-port-0", "forwarding", "tcp", 1, {**FWD, "dst_port": 0}, "dst_port is 0"),
    ("fwd-dst-port-65536", "forwarding", "tcp", 1, {**FWD, "dst_port": 65536},
     "dst_port 65536 is above 65535"),
    ("fwd-dst-port-65537", "forwarding", "tcp", 1, {**FWD, "dst_port": 65537},
     "dst_port 65537 is above 65535"),
    ("fwd-no-ifname", "forwarding", "tcp", 1, {**FWD, "ifname": ""},
     "FORWARDING needs an input interface"),
    ("fwd-no-dst-ip", "forwarding", "tcp", 1, {**FWD, "dst_ip": ""}, "FORWARDING needs dst_ip"),
]
# Fields a type does not use are checked all the same (then ignored: see
# test_fields_a_type_does_not_use_are_ignored).
BAD += [
    ("lockdown-ifname-'eth/0'", "lockdown", "tcp", 1, {"ifname": "eth/0"},
     'invalid interface name "eth/0"'),
    ("lockdown-ifname-16-chars", "lockdown", "tcp", 1, {"ifname": "eth0123456789abc"},
     'invalid interface name "eth0123456789abc"'),
    ("lockdown-dst-port-65536", "lockdown", "tcp", 1, {"dst_port": 65536},
     "dst_port 65536 is above 65535"),
    ("access-dst-port-65537", "access", "tcp", 1, {"ifname": "eth0", "dst_port": 65537},
     "dst_port 65537 is above 65535"),
    ("access-dst-ip-'1.2.3'", "access", "tcp", 1, {"dst_ip": "1.2.3"},
     'dst_ip "1.2.3" is not an IPv4 address'),
    ("lockdown-input-ip-'abc'", "lockdown", "tcp", 1, {"input_dst_ip": "abc"},
     'input_dst_ip "abc" is not an IPv4 address'),
]
for ip in ("192.0.2.1", "100.115.94.1", "100.115.91.255", "127.0.0.1", "0.0.0.0",
           "255.255.255.255"):
    BAD.append((f"fwd-dst-ip-{ip}", "forwarding", "tcp", 1, {**FWD, "dst_ip": ip},
                f"dst_ip {ip} is not a guest address"))
for ip in BAD_IPS:
    BAD.append((f"fwd-dst-ip-{ip!r}", "forwarding", "tcp", 1, {**FWD, "dst_ip": ip},
                f'dst_ip "{ip}" is not an IPv4 address'))
    BAD.append((f"fwd-input-ip-{ip!r}", "forwarding", "tcp", 1, {**FWD, "input_dst_ip": ip},
                f'input_dst_ip "{ip}" is not an IPv4 address'))
    BAD.append((f"access-input-ip-{ip!r}", "access", "tcp", 1, {"input_dst_ip": ip},
                f'input_dst_ip "{ip}" is not an IPv4 address'))
def escaped(text):
    """text as the daemon logs a caller's string: printable ASCII as is, every other byte
    of its UTF-8 as \\xNN."""
    return "".join(chr(b) if 0x20 <= b < 0x7f and b != 0x5c else f"\\x{b:02x}"
                   for b in text.encode())


for name in BAD_IFNAMES:
    BAD.append((f"access-ifname-{name!r}", "access", "tcp", 1, {"ifname": name},
                f'invalid interface name "{escaped(name)}"'))
    BAD.append((f"fwd-ifname-{name!r}", "forwarding", "tcp", 1, {**FWD, "ifname": name},
                f'invalid interface name "{escaped(name)}"'))


@pytest.mark.parametrize("rule_type,proto,port,fields,reason", [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_request_is_refused_and_changes_nothing(lab, sentinels, rule_type, proto, port,
                                                    fields, reason):
    before = rules_state(lab)
    for op in ("create", "delete"):
        start = len(lab.log())
        assert not lab.modify_port_rule(op, rule_type, proto, port, **fields), \
            f"{op} accepted:\n{new_log(lab, start)}"
        wait_logged(lab, start, f"ModifyPortRule {op.upper()} request refused: {reason}")
        assert rules_state(lab) == before, f"{op} changed the rules"


@pytest.mark.parametrize("op", [0, 3])
def test_invalid_operation_is_refused(lab, sentinels, op):
    before = rules_state(lab)
    for rule_type, proto, port, kw in SENTINELS:
        start = len(lab.log())
        assert not lab.modify_port_rule(op, rule_type, proto, port, **kw)
        wait_logged(lab, start, "ModifyPortRule INVALID request refused: the operation is "
                    "neither CREATE nor DELETE")
    assert rules_state(lab) == before


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"\x08", b"\x0a\x05ab",
                                  b"\x30\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"],
                         ids=["garbage", "truncated-varint", "truncated-string",
                              "overlong-varint"])
def test_request_that_is_not_a_protobuf_is_an_invalid_argument(lab, sentinels, data):
    before = rules_state(lab)
    with pytest.raises(pplab.DBusError) as e:
        lab.call_raw("ModifyPortRule", data)
    assert e.value.name == pplab.INVALID_ARGUMENT, e.value
    assert "Malformed ModifyPortRuleRequest" in e.value.text, e.value
    assert rules_state(lab) == before


def test_oversized_request_is_an_invalid_argument(lab, sentinels):
    """A valid request padded with an unknown field to more than the daemon reads."""
    R = lab.pb.ModifyPortRuleRequest
    req = R(op=R.DELETE, type=R.ACCESS, proto=R.TCP, input_dst_port=1,
            input_ifname="eth0").SerializeToString()
    pad = 20000
    data = req + bytes([0xfa, 0x01]) + bytes([pad & 0x7f | 0x80, pad >> 7]) + b"x" * pad
    before = rules_state(lab)
    with pytest.raises(pplab.DBusError) as e:
        lab.call_raw("ModifyPortRule", data)
    assert e.value.name == pplab.INVALID_ARGUMENT, e.value
    assert "is larger than" in e.value.text, e.value
    assert rules_state(lab) == before


# A NUL ends a C string: a field with one inside must be refused, not read as its part
# before the NUL (the rules of SENTINELS are what the parts before the NUL would name).
NUL = [
    ("access-ifname", "access", {"ifname": "eth0\0junk"}),
    ("fwd-ifname", "forwarding", {**FWD, "ifname": "eth0\0junk"}),
    ("fwd-dst-ip", "forwarding", {**FWD, "dst_ip": GUEST + "\0junk"}),
    ("fwd-input-ip", "forwarding", {**FWD, "input_dst_ip": HOST + "\0"}),
]


@pytest.mark.parametrize("rule_type,fields", [n[1:] for n in NUL], ids=[n[0] for n in NUL])
def test_a_nul_inside_a_field_is_refused_not_cut_short(lab, sentinels, rule_type, fields):
    """Such a request cannot be read as the caller wrote it: InvalidArgument, as for any
    request that does not decode, and nothing changes."""
    before = rules_state(lab)
    for op in ("create", "delete"):
        with pytest.raises(pplab.DBusError) as e:
            lab.modify_port_rule(op, rule_type, "tcp", 1, **fields)
        assert e.value.name == pplab.INVALID_ARGUMENT, e.value
        assert "not UTF-8 text without NUL" in e.value.text, e.value
        assert rules_state(lab) == before, f"{op} changed the rules"


def test_a_refusal_logs_what_the_caller_sent_on_one_line(lab, baseline):
    """The strings of a refused request are the caller's: logged as they are, a newline in
    them makes a log line that seems to come from someone else."""
    forged = "patchpaneld[1]: info: Port rule ACCESS tcp *:22 created"
    manager, helper = lab.daemon_pids()
    ours = (f"patchpaneld[{manager}]: ", f"patchpanel-helper[{helper}]: ")
    for fields in ({"ifname": "x\n" + forged}, {"input_dst_ip": "x\n" + forged},
                   {"dst_ip": "\r\x1b[2K" + forged}):
        start = len(lab.log())
        assert not lab.modify_port_rule("create", "access", "tcp", 8196, **fields)
        wait_logged(lab, start, "ModifyPortRule CREATE request refused: ")
        logged = new_log(lab, start)
        assert all(l.startswith(ours) for l in logged.splitlines()) and \
            not re.search("[\x00-\x09\x0b-\x1f\x7f]", logged), \
            f"{fields} logged as {logged!r}"


def refused(lab, reason, op, rule_type, proto, port, **kw):
    """Make a request that must be refused with reason (logged), changing nothing."""
    before = rules_state(lab)
    start = len(lab.log())
    assert not lab.modify_port_rule(op, rule_type, proto, port, **kw), \
        f"{op} {rule_type} {proto} {port} {kw} accepted:\n{new_log(lab, start)}"
    wait_logged(lab, start, reason)
    assert rules_state(lab) == before, f"{op} {rule_type} {proto} {port} {kw} changed rules"


# (rule_type, proto, port, fields, the set it goes to, its element there)
KINDS = {
    "access-eth0": ("access", "tcp", 8189, {"ifname": "eth0"}, "access", ("eth0", "tcp", 8189)),
    "access-any": ("access", "udp", 8189, {}, "access_any", ("udp", 8189)),
    "lockdown": ("lockdown", "udp", 8189, {}, "lockdown", ("udp", 8189)),
    "forwarding": ("forwarding", "tcp", 8189, {**FWD, "dst_port": 80}, "port_fwd",
                   (("eth0", "tcp", 8189), (GUEST, 80))),
    "forwarding-ip": ("forwarding", "udp", 8189, {**FWD, "input_dst_ip": HOST, "dst_port": 80},
                      "port_fwd_ip", (("eth0", "udp", HOST, 8189), (GUEST, 80))),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_duplicate_create_and_missing_delete_are_refused(lab, baseline, rules, kind):
    rule_type, proto, port, kw, set_name, elem = KINDS[kind]
    rules.create(rule_type, proto, port, **kw)
    assert nft_rule_elements(lab, set_name) == {elem}
    refused(lab, "the rule exists already", "create", rule_type, proto, port, **kw)
    rules.delete(rule_type, proto, port, **kw)
    assert nft_rule_elements(lab, set_name) == set()
    refused(lab, "no such rule", "delete", rule_type, proto, port, **kw)
    # The same rule again after all that.
    rules.create(rule_type, proto, port, **kw)
    assert nft_rule_elements(lab, set_name) == {elem}


def test_rules_differing_in_one_field_are_other_rules(lab, baseline, rules):
    base = ("access", "tcp", 8190, {"ifname": "eth0"})
    rules.create(*base[:3], **base[3])
    for other in (("access", "udp", 8190, {"ifname": "eth0"}),
                  ("access", "tcp", 8191, {"ifname": "eth0"}),
                  ("access", "tcp", 8190, {"ifname": "eth1"}),
                  ("access", "tcp", 8190, {})):
        refused(lab, "no such rule", "delete", *other[:3], **other[3])
        rules.create(*other[:3], **other[3])
    assert nft_rule_elements(lab, "access") == {("eth0", "tcp", 8190), ("eth0", "udp", 8190),
                                               ("eth0", "tcp", 8191), ("eth1", "tcp", 8190)}
    assert nft_rule_elements(lab, "access_any") == {("tcp", 8190)}


def test_fields_a_type_does_not_use_are_ignored(lab, baseline, rules):
    """LOCKDOWN has no interface, ACCESS and LOCKDOWN no addresses: a valid value there is
    dropped, and the rule is the one without it (as the original's rules had no place for
    them)."""
    port = 8195
    rules.create("lockdown", "tcp", port, ifname="eth0", input_dst_ip=HOST)
    rules.create("access", "udp", port, ifname="eth0", input_dst_ip=HOST, dst_ip=GUEST,
                 dst_port=80)
    assert nft_rule_elements(lab, "lockdown") == {("tcp", port)}
    assert nft_rule_elements(lab, "access") == {("eth0", "udp", port)}
    refused(lab, "the rule exists already", "create", "lockdown", "tcp", port)
    refused(lab, "the rule exists already", "create", "access", "udp", port, ifname="eth0")
    rules.delete("lockdown", "tcp", port, ifname="eth0", input_dst_ip=HOST)
    rules.live.remove(("access", "udp", port, {"ifname": "eth0", "input_dst_ip": HOST,
                                                "dst_ip": GUEST, "dst_port": 80}))
    assert lab.modify_port_rule("delete", "access", "udp", port, ifname="eth0")
    assert rules_state(lab) == {**{n: set() for n in RULE_SETS}, "count": 0}


def test_forwarding_rule_is_one_per_input_and_deleted_only_by_its_destination(lab, baseline,
                                                                            rules):
    port, kw = 8192, {**FWD, "dst_port": 80}
    rules.create("forwarding", "tcp", port, **kw)
    elem = {(("eth0", "tcp", port), (GUEST, 80))}
    # One rule per (interface, protocol, port): another destination is refused, not added.
    refused(lab, "the rule exists already", "create", "forwarding", "tcp", port,
            **{**kw, "dst_ip": "100.115.92.134"})
    refused(lab, "the rule exists already", "create", "forwarding", "tcp", port,
            **{**kw, "dst_port": 81})
    assert nft_rule_elements(lab, "port_fwd") == elem
    for other in ({"dst_ip": "100.115.92.134"}, {"dst_port": 81}):
        refused(lab, "the rule forwards somewhere else", "delete", "forwarding", "tcp", port,
                **{**kw, **other})
    refused(lab, "FORWARDING needs dst_ip", "delete", "forwarding", "tcp", port,
            **{**kw, "dst_ip": ""})
    refused(lab, "no such rule", "delete", "forwarding", "tcp", port,
            **{**kw, "input_dst_ip": HOST})
    assert nft_rule_elements(lab, "port_fwd") == elem
    rules.delete("forwarding", "tcp", port, **kw)
    assert nft_rule_elements(lab, "port_fwd") == set()


def test_concurrent_identical_creates_make_one_rule(lab, baseline, rules):
    pb = lab.pb.ModifyPortRuleRequest
    req = pb(op=pb.CREATE, type=pb.ACCESS, proto=pb.TCP, input_dst_port=8193,
             input_ifname="eth0").SerializeToString()
    replies = lab.bus().call_many([("ModifyPortRule", "ay", [req], ())] * 4)
    ok = []
    for body in replies:
        assert not isinstance(body, Exception), body
        resp = lab.pb.ModifyPortRuleResponse()
        resp.ParseFromString(bytes(body[0]))
        ok.append(resp.success)
    assert ok.count(True) == 1, ok
    rules.live.append(("access", "tcp", 8193, {"ifname": "eth0"}))
    assert nft_rule_elements(lab, "access") == {("eth0", "tcp", 8193)}
    assert lab.status()["firewall"]["port_rules_count"] == 1


def test_racing_requests_leave_the_daemon_and_the_kernel_agreeing(lab, baseline, rules):
    """CREATE and DELETE of the same rules, all in flight at once: whatever each answer,
    the successes alternate CREATE, DELETE, ... per rule (in the order sent), and the kernel
    ends with exactly the rules whose last success was a CREATE."""
    R = lab.pb.ModifyPortRuleRequest
    ports = range(8200, 8210)
    ops = [R.CREATE, R.DELETE, R.CREATE, R.DELETE, R.CREATE, R.CREATE, R.DELETE, R.CREATE]
    calls, keys = [], []
    for op in ops:
        for port in ports:
            req = R(op=op, type=R.FORWARDING, proto=R.UDP, input_dst_port=port,
                    input_ifname="eth0", dst_ip=GUEST, dst_port=port)
            calls.append(("ModifyPortRule", "ay", [req.SerializeToString()], ()))
            keys.append((op, port))
    replies = lab.bus().call_many(calls)
    done = {port: [] for port in ports}
    for (op, port), body in zip(keys, replies):
        assert not isinstance(body, Exception), body
        resp = lab.pb.ModifyPortRuleResponse()
        resp.ParseFromString(bytes(body[0]))
        if resp.success:
            done[port].append(op)
    left = set()
    for port, seq in done.items():
        alternating = [R.CREATE, R.DELETE] * (len(seq) // 2) + [R.CREATE] * (len(seq) % 2)
        assert seq and seq == alternating, (port, seq)
        if len(seq) % 2:
            left.add(port)
            rules.live.append(("forwarding", "udp", port, {**FWD, "dst_port": port}))
    assert nft_rule_elements(lab, "port_fwd") == {
        (("eth0", "udp", port), (GUEST, port)) for port in left}
    status = lab.status()["firewall"]
    assert sorted(r["port"] for r in status["port_rules"]) == sorted(left), status
    assert all(r["active"] for r in status["port_rules"]), status


# ---- exact elements, and nothing left behind -------------------------------------------------

def test_each_rule_is_exactly_one_element_until_deleted(lab, baseline, rules):
    empty = {n: set() for n in RULE_SETS}
    assert {n: nft_rule_elements(lab, n) for n in RULE_SETS} == empty
    want = {n: set() for n in RULE_SETS}
    for kind, (rule_type, proto, port, kw, set_name, elem) in KINDS.items():
        rules.create(rule_type, proto, port, **kw)
        want[set_name].add(elem)
        assert {n: nft_rule_elements(lab, n) for n in RULE_SETS} == want, kind
    status = lab.status()["firewall"]
    assert status["port_rules_count"] == len(KINDS), status
    assert all(r["active"] for r in status["port_rules"]), status
    for kind, (rule_type, proto, port, kw, set_name, elem) in KINDS.items():
        rules.delete(rule_type, proto, port, **kw)
        want[set_name].discard(elem)
        assert {n: nft_rule_elements(lab, n) for n in RULE_SETS} == want, kind
    assert lab.status()["firewall"]["port_rules_count"] == 0


def test_many_rules_created_then_deleted_leave_nothing(lab, baseline, rules):
    made = []
    for i in range(300):  # more than the daemon's table starts with: it grows
        port = 20000 + i
        made.append(("access", ("tcp", "udp")[i % 2], port, {"ifname": ("eth0", "eth1")[i % 3 % 2]}
                     if i % 3 else {}))
        if i % 10 == 0:
            made.append(("forwarding", "tcp", port, {**FWD, "dst_port": port}))
            made.append(("lockdown", "udp", port, {}))
    for r in made:
        rules.create(*r[:3], **r[3])
    state = rules_state(lab)
    assert state["count"] == len(made)
    assert sum(len(state[n]) for n in RULE_SETS) == len(made)
    assert len(state["port_fwd"]) == len(state["lockdown"]) == 30
    for r in made[::2] + made[1::2]:
        rules.delete(*r[:3], **r[3])
    assert rules_state(lab) == {**{n: set() for n in RULE_SETS}, "count": 0}
