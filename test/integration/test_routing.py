"""Uplinks and policy routing: each uplink's routing table (a mirror of its main-table
routes), the rules that select it by routing tag and by outgoing interface, connection
pinning through the conntrack mark, ConnectNamespace's outbound_physical_device, uplinks
that come and go, and what GetStatus says about them.

The lab has two uplinks: eth0 (lan, 192.0.2.1, the default route) and eth1 (lan2,
198.51.100.1, no default route). Both lans answer for SHARED_ADDR: the main table reaches
it over eth0 (192.0.2.0/24 is on eth0's link); it goes out of eth1 only by policy."""

import json

import pytest

import pplab

SHARED_ADDR = "192.0.2.200"
UNREACHABLE_METRIC = 4294967295


LAB_UPLINKS = 2  # the conftest lab gets eth1 <-> lan2 too


@pytest.fixture
def shared_addr(lab):
    """SHARED_ADDR on both lans, and an echo-request counter for it on each: returns
    {"eth0": count, "eth1": count}."""
    counts = {}
    for uplink, lan in (("eth0", lab.lan), ("eth1", lab.lan2)):
        lan.out("ip", "addr", "add", f"{SHARED_ADDR}/32", "dev", "lan0")
        counts[uplink] = lan.counter("shared", f"icmp type echo-request ip daddr {SHARED_ADDR}")
    yield counts
    for lan in (lab.lan, lab.lan2):
        lan.delete_counters()
        lan.exec("ip", "addr", "del", f"{SHARED_ADDR}/32", "dev", "lan0")


@pytest.fixture
def eth1_default(lab):
    """A default route over eth1 behind eth0's (metric 200), mirrored into eth1's table."""
    route = ["default", "via", pplab.LAN2_ADDR, "dev", "eth1", "metric", "200"]
    lab.host.out("ip", "route", "add", *route)
    err = wait_table(lab, "eth1", lambda t: any(r["dst"] == "default" and
                                                 r.get("gateway") == pplab.LAN2_ADDR for r in t))
    assert err is None, err
    yield
    lab.host.exec("ip", "route", "del", *route)


def table_of(lab, uplink):
    return pplab.routing_table(lab.host.ifindex(uplink))


def tag_of(lab, uplink):
    return table_of(lab, uplink) << 16


def normalized(routes):
    """Routes as comparable strings, without what differs between a main-table route and
    its copy (table, protocol) or comes and goes (linkdown)."""
    out = []
    for r in routes:
        r = {k: v for k, v in r.items() if k not in ("table", "protocol")}
        r["flags"] = [f for f in r.get("flags", []) if f != "linkdown"]
        out.append(json.dumps(r, sort_keys=True))
    return sorted(out)


def uplink_table(lab, uplink, family="-4"):
    """The routes of uplink's table, all ours (protocol 177), without the unreachable
    default; raises if one is not ours."""
    routes = lab.host.ip_json(family, "route", "show", "table", str(table_of(lab, uplink)))
    assert all(r.get("protocol") == str(pplab.RTPROT_PATCHPANEL) for r in routes), routes
    return [r for r in routes if r.get("type") != "unreachable"]


def main_routes(lab, uplink, family="-4"):
    routes = lab.host.ip_json(family, "route", "show", "table", "main", "dev", uplink)
    for r in routes:
        r.setdefault("dev", uplink)  # implied by the filter, so not printed
    return routes


def wait_table(lab, uplink, check, family="-4", timeout=1.0):
    """Poll until check(uplink's table) is true; None, or the table last seen."""
    return pplab.poll(lambda: None if check(uplink_table(lab, uplink, family)) else
                      uplink_table(lab, uplink, family), timeout=timeout,
                      what=f"table of {uplink}")


def mirrored(lab, uplink, family="-4"):
    """None when uplink's table is exactly a copy of its main-table routes, else the
    difference."""
    want = normalized(main_routes(lab, uplink, family))
    have = normalized(uplink_table(lab, uplink, family))
    if want == have:
        return None
    return {"missing": sorted(set(want) - set(have)), "extra": sorted(set(have) - set(want))}


def rules(lab, family):
    return [r for r in lab.host.ip_json(family, "rule", "show")
            if r.get("priority") == pplab.RULE_PRIORITY]


def expected_rules(lab, uplink):
    table = str(table_of(lab, uplink))
    proto = str(pplab.RTPROT_PATCHPANEL)
    return [{"priority": 1000, "src": "all", "fwmark": hex(tag_of(lab, uplink)),
             "fwmask": "0xffff0000", "table": table, "protocol": proto},
            {"priority": 1000, "src": "all", "oif": uplink, "table": table, "protocol": proto}]


def canonical_rules(found):
    return sorted(json.dumps(r, sort_keys=True) for r in found)


# ---- tables, rules, pinning chains ------------------------------------------------------------

def test_each_uplink_has_its_table_rules_and_pinning_chain(lab, baseline):
    status = lab.status()
    assert status["default_interface"] == "eth0", status
    assert sorted((u["name"], u["ifindex"], u["technology"], u["up"], u["routing_table"])
                  for u in status["uplinks"]) == \
        sorted((u, lab.host.ifindex(u), "ethernet", True, table_of(lab, u))
               for u in ("eth0", "eth1")), status["uplinks"]

    want_rules = []
    for uplink in ("eth0", "eth1"):
        table = str(table_of(lab, uplink))
        for family in ("-4", "-6"):
            everything = lab.host.ip_json(family, "route", "show", "table", table)
            unreachable = [r for r in everything if r.get("type") == "unreachable"]
            assert [(r["dst"], r["metric"], r["protocol"]) for r in unreachable] == \
                [("default", UNREACHABLE_METRIC, str(pplab.RTPROT_PATCHPANEL))], everything
        diff = mirrored(lab, uplink, "-4")
        assert diff is None, (uplink, diff)
        want_rules += expected_rules(lab, uplink)
        # Pinning: new connections out of the uplink get its tag in their conntrack mark.
        ifindex = lab.host.ifindex(uplink)
        assert lab.nft_elements("uplink_post")[uplink] == {"jump": {"target": f"uplink_{ifindex}"}}
        chain = lab.host.nft("list", "chain", "inet", "patchpanel", f"uplink_{ifindex}")
        # (nft prints "& 0x0000ffff | TAG" folded as "& (0xffff | TAG) | TAG".)
        tag = tag_of(lab, uplink)
        assert f"ct mark set ct mark & 0x{tag | 0xffff:08x} | 0x{tag:08x}" in chain, chain
    for family in ("-4", "-6"):
        assert canonical_rules(rules(lab, family)) == canonical_rules(want_rules), family


def test_routes_follow_the_main_table_within_a_second(lab, baseline):
    prefix, gw, gw2 = "198.51.100.64/26", pplab.LAN_ADDR, "192.0.2.3"
    lab.host.out("ip", "route", "add", prefix, "via", gw, "dev", "eth0")
    try:
        err = wait_table(lab, "eth0", lambda t: [r.get("gateway") for r in t
                                                 if r["dst"] == prefix] == [gw])
        assert err is None, err
        assert mirrored(lab, "eth0") is None
        assert [r for r in uplink_table(lab, "eth1") if r["dst"] == prefix] == []
        # A changed route is changed in the copy, not doubled.
        lab.host.out("ip", "route", "replace", prefix, "via", gw2, "dev", "eth0")
        err = wait_table(lab, "eth0", lambda t: [r.get("gateway") for r in t
                                                 if r["dst"] == prefix] == [gw2])
        assert err is None, err
    finally:
        lab.host.exec("ip", "route", "del", prefix)
    err = wait_table(lab, "eth0", lambda t: not [r for r in t if r["dst"] == prefix])
    assert err is None, err
    assert mirrored(lab, "eth0") is None


def test_ipv6_routes_follow_the_main_table(lab, baseline):
    addr = "2001:db8:1::2/64"
    lab.host.out("ip", "-6", "addr", "add", addr, "dev", "eth1", "nodad")
    try:
        err = wait_table(lab, "eth1", lambda t: any(r["dst"] == "2001:db8:1::/64" for r in t),
                         family="-6")
        assert err is None, err
    finally:
        lab.host.out("ip", "-6", "addr", "del", addr, "dev", "eth1")
    err = wait_table(lab, "eth1", lambda t: not any(r["dst"] == "2001:db8:1::/64" for r in t),
                     family="-6")
    assert err is None, err


def test_ipv6_link_local_routes_are_mirrored_for_every_uplink(lab, baseline):
    """Every uplink has fe80::/64 (metric 256) in the main table: the same destination and
    metric on each link. Each uplink's table must have its own."""
    missing = {}
    for uplink in ("eth0", "eth1"):
        err = wait_table(lab, uplink, lambda t: any(r["dst"] == "fe80::/64" and
                                                     r.get("dev") == uplink for r in t),
                         family="-6")
        if err:
            missing[uplink] = err
    assert not missing, missing


def test_an_uplink_going_down_and_up_is_followed(lab, baseline):
    lab.host.out("ip", "link", "set", "eth1", "down")
    try:
        # The kernel drops the link's IPv4 routes without a notification per route.
        err = wait_table(lab, "eth1", lambda t: t == [])
        assert err is None, err
    finally:
        lab.host.out("ip", "link", "set", "eth1", "up")
    err = wait_table(lab, "eth1", lambda t: [r["dst"] for r in t] == ["198.51.100.0/24"])
    assert err is None, err
    assert mirrored(lab, "eth1") is None


def test_default_interface_follows_the_main_table(lab, baseline):
    lab.host.out("ip", "route", "del", "default", "via", pplab.LAN_ADDR, "dev", "eth0")
    try:
        lab.host.out("ip", "route", "add", "default", "via", pplab.LAN2_ADDR, "dev", "eth1")
        err = pplab.poll(lambda: None if lab.status()["default_interface"] == "eth1" else
                         lab.status()["default_interface"], timeout=1, what="default interface")
        assert err is None, err
        lab.host.out("ip", "route", "del", "default", "via", pplab.LAN2_ADDR, "dev", "eth1")
        err = pplab.poll(lambda: None if lab.status()["default_interface"] == "" else
                         lab.status()["default_interface"], timeout=1, what="no default")
        assert err is None, err
    finally:
        lab.host.exec("ip", "route", "del", "default", "via", pplab.LAN2_ADDR, "dev", "eth1")
        lab.host.out("ip", "route", "add", "default", "via", pplab.LAN_ADDR, "dev", "eth0")
    err = pplab.poll(lambda: None if lab.status()["default_interface"] == "eth0" else
                     lab.status()["default_interface"], timeout=1, what="default interface")
    assert err is None, err


def test_vpn_links_are_tracked_and_can_be_the_default(lab, baseline):
    """A tun link is a VPN link (not an uplink); with the default route through it, it is
    the default interface. Our own TAPs (also kind tun, but ethernet) never count."""
    def vpn_names():
        return sorted(v["name"] for v in lab.status()["vpn_links"])

    lab.host.out("ip", "tuntap", "add", "dev", "tun7", "mode", "tun")
    try:
        err = pplab.poll(lambda: None if vpn_names() == ["tun7"] else vpn_names(), timeout=1,
                         what="VPN links")
        assert err is None, err
        assert lab.status()["vpn_links"][0]["kind"] == "tun"
        assert "tun7" not in [u["name"] for u in lab.status()["uplinks"]]

        lab.host.out("ip", "link", "set", "tun7", "up")
        lab.host.out("ip", "addr", "add", "198.51.100.77/32", "dev", "tun7")
        # The VPN takes over the default route, as a VPN client does.
        lab.host.out("ip", "route", "del", "default", "via", pplab.LAN_ADDR, "dev", "eth0")
        lab.host.out("ip", "route", "add", "default", "dev", "tun7")
        err = pplab.poll(lambda: None if lab.status()["default_interface"] == "tun7" else
                         lab.status()["default_interface"], timeout=1, what="default interface")
        assert err is None, err

        # A guest's TAP is not a VPN link.
        lab.termina_vm_startup(4242)
        try:
            assert vpn_names() == ["tun7"], vpn_names()
        finally:
            lab.termina_vm_shutdown(4242)
    finally:
        lab.host.exec("ip", "link", "del", "tun7")
        lab.host.exec("ip", "route", "replace", "default", "via", pplab.LAN_ADDR, "dev", "eth0")
    err = pplab.poll(lambda: None if vpn_names() == [] else vpn_names(), timeout=1,
                     what="VPN links")
    assert err is None, err
    err = pplab.poll(lambda: None if lab.status()["default_interface"] == "eth0" else
                     lab.status()["default_interface"], timeout=1, what="default interface")
    assert err is None, err


# ---- traffic: pinned namespaces and pinned connections -----------------------------------------

def test_pinned_namespace_never_leaks_over_another_uplink(lab, baseline, shared_addr):
    """Pinned to eth1, which has no default route: SHARED_ADDR is unreachable for it, even
    though the main table reaches it over eth0."""
    ns, proc = lab.client()
    _, lifeline = lab.connect_namespace(proc.pid, outbound_physical_device="eth1")
    try:
        assert not ns.ping(SHARED_ADDR)
        assert (shared_addr["eth0"](), shared_addr["eth1"]()) == (0, 0)
        # The lan2 side is reachable: eth1's own routes are in its table.
        assert ns.ping(pplab.LAN2_ADDR)
    finally:
        lifeline.close()


def test_pinned_namespace_leaves_through_its_uplink(lab, baseline, shared_addr, eth1_default):
    free_ns, free_proc = lab.client()
    pinned_ns, pinned_proc = lab.client()
    free, free_line = lab.connect_namespace(free_proc.pid)
    pinned, pinned_line = lab.connect_namespace(pinned_proc.pid,
                                                outbound_physical_device="eth1")
    try:
        marks = lab.nft_elements("guest_mark")
        assert marks[pinned.host_ifname] & 0xffff0000 == tag_of(lab, "eth1")
        assert marks[free.host_ifname] & 0xffff0000 == 0
        outbound = {n["host_ifname"]: n["outbound"] for n in lab.status()["connected_namespaces"]}
        assert outbound == {free.host_ifname: "", pinned.host_ifname: "eth1"}, outbound

        assert free_ns.ping(SHARED_ADDR, count=2), "the free namespace cannot reach it"
        assert (shared_addr["eth0"](), shared_addr["eth1"]()) == (2, 0)
        assert pinned_ns.ping(SHARED_ADDR, count=2), "the pinned namespace cannot reach it"
        assert (shared_addr["eth0"](), shared_addr["eth1"]()) == (2, 2)

        # And conntrack says so: masqueraded to each uplink's address, tagged with it.
        for resp, uplink, uplink_addr in ((free, "eth0", pplab.HOST_UPLINK_ADDR),
                                          (pinned, "eth1", pplab.HOST_UPLINK2_ADDR)):
            src = pplab.wire_to_ip(resp.peer_ipv4_address)
            flows = lab.host.out("conntrack", "-L", "-p", "icmp", "-s", src, "-d", SHARED_ADDR)
            assert f"dst={uplink_addr}" in flows, (uplink, flows)
            marks = {int(w[5:]) for w in flows.split() if w.startswith("mark=")}
            assert marks and all(m & 0xffff0000 == tag_of(lab, uplink) for m in marks), \
                (uplink, flows)
    finally:
        free_line.close()
        pinned_line.close()


def test_connections_stay_on_the_uplink_they_started_on(lab, baseline, shared_addr):
    """A UDP flow that started over eth0 keeps going over eth0 after the main table
    sends SHARED_ADDR over eth1; a new flow takes eth1."""
    servers = [lab.lan.name_server("lan", 7200), lab.lan2.name_server("lan2", 7200)]
    ns, proc = lab.client()
    _, lifeline = lab.connect_namespace(proc.pid)
    detour = [f"{SHARED_ADDR}/32", "via", pplab.LAN2_ADDR, "dev", "eth1"]
    try:
        assert ns.ask(SHARED_ADDR, 7200, udp=True, sport=40001) == f"lan {SHARED_ADDR}"
        lab.host.out("ip", "route", "add", *detour)
        assert ns.ask(SHARED_ADDR, 7200, udp=True, sport=40002) == f"lan2 {SHARED_ADDR}"
        assert ns.ask(SHARED_ADDR, 7200, udp=True, sport=40001) == f"lan {SHARED_ADDR}", \
            "an established flow changed uplink"
        # TCP too: connections are new each time and follow the main table.
        assert ns.ask(SHARED_ADDR, 7200) == f"lan2 {SHARED_ADDR}"
    finally:
        lab.host.exec("ip", "route", "del", *detour)
        lifeline.close()
        for s in servers:
            s.kill()
            s.wait()
        lab.host.exec("conntrack", "-D", "-d", SHARED_ADDR)


# ---- uplinks that come and go -------------------------------------------------------------------

def test_an_uplink_that_goes_takes_its_routing_and_pinned_namespaces(fresh_lab):
    lab = fresh_lab(uplinks=2)
    free_ns, free_proc = lab.client()
    pinned_ns, pinned_proc = lab.client()
    free, free_line = lab.connect_namespace(free_proc.pid)
    pinned, pinned_line = lab.connect_namespace(pinned_proc.pid, outbound_physical_device="eth1")
    try:
        ifindex, table = lab.host.ifindex("eth1"), table_of(lab, "eth1")
        assert pinned_ns.ping(pplab.LAN2_ADDR)
        lab.remove_uplink("eth1")

        # Namespaces pinned to it are disconnected; the others are not.
        err = pplab.poll(lambda: None if pinned.host_ifname not in lab.host.links() else
                         "still there", timeout=2, what="pinned namespace's link")
        assert err is None, err
        assert pinned.peer_ifname not in pinned_ns.links()
        err = pplab.poll(lambda: None if [n["host_ifname"] for n in lab.status()[
            "connected_namespaces"]] == [free.host_ifname] else lab.status()[
            "connected_namespaces"], timeout=2, what="connected namespaces")
        assert err is None, err
        assert free_ns.ping(pplab.LAN_ADDR)

        # Its table, rules, pinning element and chain are gone.
        def gone():
            left = []
            for family in ("-4", "-6"):
                left += [r for r in lab.host.ip_json(family, "rule", "show")
                         if r.get("table") == str(table)]
                left += lab.host.ip_json(family, "route", "show", "table", str(table))
            if "eth1" in lab.nft_elements("uplink_post"):
                left.append("uplink_post element")
            if lab.host.exec("nft", "list", "chain", "inet", "patchpanel",
                             f"uplink_{ifindex}").returncode == 0:
                left.append(f"chain uplink_{ifindex}")
            return left or None
        err = pplab.poll(gone, timeout=1, what="eth1's routing")
        assert err is None, err
        assert [u["name"] for u in lab.status()["uplinks"]] == ["eth0"]
        assert sorted(canonical_rules(rules(lab, "-4"))) == \
            canonical_rules(expected_rules(lab, "eth0"))

        # It comes back with a new ifindex, a new table, and works for pinning again.
        lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
        err = pplab.poll(lambda: None if canonical_rules(rules(lab, "-4")) == canonical_rules(
            expected_rules(lab, "eth0") + expected_rules(lab, "eth1")) else rules(lab, "-4"),
            timeout=1, what="eth1's rules")
        assert err is None, err
        err = wait_table(lab, "eth1", lambda t: [r["dst"] for r in t] == ["198.51.100.0/24"])
        assert err is None, err
        again_ns, again_proc = lab.client()
        _, again_line = lab.connect_namespace(again_proc.pid, outbound_physical_device="eth1")
        try:
            assert again_ns.ping(pplab.LAN2_ADDR)
        finally:
            again_line.close()
    finally:
        free_line.close()
        pinned_line.close()


def wait_uplinks(lab, names, what):
    """Wait (a second at most) until the daemon's uplinks are names."""
    err = pplab.poll(lambda: None if [u["name"] for u in lab.status()["uplinks"]] == names
                     else lab.status()["uplinks"], timeout=1, what=what)
    assert err is None, err


def test_an_uplink_that_goes_is_not_an_error(fresh_lab):
    """Unplugging an uplink is an everyday event: nothing in the log may call it an error."""
    lab = fresh_lab(uplinks=2)
    lab.remove_uplink("eth1")
    wait_uplinks(lab, ["eth0"], "eth1 gone")
    # The helper answers in order: once the shutdown's teardown is answered, so is all that
    # the removal set off.
    assert lab.stop_daemon() == 0, lab.log()
    errors = [l for l in lab.log().splitlines() if ": error: " in l]
    assert not errors, errors


def test_a_wifi_uplink_appears_and_goes(fresh_lab):
    lab = fresh_lab(uplinks=1)
    lab.add_uplink("wlan0", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
    err = pplab.poll(lambda: None if "wlan0" in [u["name"] for u in lab.status()["uplinks"]]
                     else "not yet", timeout=1, what="wlan0 in the status")
    assert err is None, err
    wlan = next(u for u in lab.status()["uplinks"] if u["name"] == "wlan0")
    assert (wlan["technology"], wlan["routing_table"]) == \
        ("wifi", table_of(lab, "wlan0")), wlan
    err = wait_table(lab, "wlan0", lambda t: [r["dst"] for r in t] == ["198.51.100.0/24"])
    assert err is None, err
    ns, proc = lab.client()
    _, lifeline = lab.connect_namespace(proc.pid, outbound_physical_device="wlan0")
    try:
        assert ns.ping(pplab.LAN2_ADDR)
    finally:
        lifeline.close()
    lab.remove_uplink("wlan0")
    wait_uplinks(lab, ["eth0"], "wlan0 gone")


def test_links_that_are_not_uplinks_are_ignored(lab, baseline):
    """A link whose name matches no uplink pattern gets no table and no rules."""
    lab.host.out("ip", "link", "add", "name", "lab9", "type", "veth", "peer", "name", "lab9p")
    try:
        lab.host.out("ip", "link", "set", "lab9", "up")
        lab.host.out("ip", "addr", "add", "198.51.100.129/25", "dev", "lab9")
        assert sorted(u["name"] for u in lab.status()["uplinks"]) == ["eth0", "eth1"]
        assert "lab9" not in lab.nft_elements("uplink_post")
        assert canonical_rules(rules(lab, "-4")) == canonical_rules(
            expected_rules(lab, "eth0") + expected_rules(lab, "eth1"))
    finally:
        lab.host.out("ip", "link", "del", "lab9")


def test_unknown_or_invalid_outbound_device(lab, baseline):
    _, proc = lab.client()
    for device, fragment in (("eth7", "Unknown outbound_physical_device"),
                             ("arcbr0", "Unknown outbound_physical_device"),
                             ("eth0/../x", "Invalid outbound_physical_device")):
        lifeline = pplab.Lifeline()
        try:
            with pytest.raises(pplab.DBusError) as e:
                lab.connect_namespace(proc.pid, lifeline=lifeline,
                                      outbound_physical_device=device)
        finally:
            lifeline.close()
        assert e.value.name == pplab.INVALID_ARGUMENT and fragment in e.value.text, e.value
        changed = pplab.snapshot_diff(baseline, lab.snapshot())
        assert changed is None, (device, changed)
