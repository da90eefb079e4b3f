"""VM guests end to end: Termina, PluginVM and ARCVM over D-Bus, the TAPs and bridges they
get, real traffic from a VM stand-in behind each TAP (taprelay.py), GetDevices and the
NetworkDeviceChanged signals, bad input, and teardown that leaves nothing behind.

The lab has two uplinks: eth0 (lan, 192.0.2.1, the default route) and eth1 (lan2,
198.51.100.1). Neither lan routes back to the guest pools, so a guest reaches them only
through patchpanel's masquerade."""

import ipaddress

import pytest

import pplab

INVALID_ARGUMENT = pplab.INVALID_ARGUMENT
EXHAUSTED = pplab.EXHAUSTED

TERMINA_POOL = [ipaddress.ip_network(f"100.115.92.{24 + 4 * i}/30") for i in range(26)]
LXD_POOL = ipaddress.ip_network("100.115.92.192/26")
PLUGINVM_POOL = ipaddress.ip_network("100.115.93.0/24")
STABLE_MAC = "42:37:05:13:17:{:02x}"

# fwmarks (README "Datapath"): bit 0 masquerade, source in bits 8-13.
MARK_TERMINA = 0xa101   # SNAT | CROSVM | ROUTE_ON_VPN
MARK_PLUGINVM = 0xa201  # SNAT | PLUGINVM | ROUTE_ON_VPN
MARK_ARC = 0x2001       # SNAT | ARC


LAB_UPLINKS = 2  # the conftest lab gets eth1 <-> lan2 too


@pytest.fixture
def signals(lab):
    collector = lab.signals()
    yield collector
    collector.close()


def flush_conntrack(lab, src):
    lab.host.exec("conntrack", "-D", "-s", src)


def assert_nat(lab, src, dst, uplink_addr):
    """conntrack in host has src -> dst with the reply going to uplink_addr (masquerade)."""
    flows = lab.host.out("conntrack", "-L", "-s", src, "-d", dst)
    assert f"src={dst} dst={uplink_addr}" in flows, f"no NAT of {src} -> {dst}: {flows!r}"


def assert_locally_administered_unicast(mac):
    first = int(mac.split(":")[0], 16)
    assert first & 0x03 == 0x02, f"{mac} is not a locally administered unicast MAC"


def assert_tap(lab, ifname):
    """A persistent TAP of the daemon's, owned by root (no crosvm user here), up."""
    link = lab.host.ip_json("-d", "link", "show", "dev", ifname)[0]
    info = link["linkinfo"]
    assert info["info_kind"] == "tun" and info["info_data"]["type"] == "tap", link
    assert info["info_data"]["persist"] is True and info["info_data"]["user"] == "root", link
    assert info["info_data"]["pi"] is False, link
    assert link.get("ifalias") == "patchpanel", link
    assert "UP" in link["flags"], link
    return link


def host_addrs(lab, ifname):
    return [f"{a['local']}/{a['prefixlen']}"
            for l in lab.host.ip_json("-4", "addr", "show", "dev", ifname)
            for a in l.get("addr_info", [])]


# ---- Termina ------------------------------------------------------------------------------

def test_termina_vm_reaches_the_lan_through_nat(lab, baseline, signals):
    resp = lab.termina_vm_startup(11)
    dev = resp.device
    tap = dev.ifname
    subnet = pplab.subnet_of(dev.ipv4_subnet)
    lxd = pplab.subnet_of(resp.container_subnet)
    guest = pplab.wire_to_ip(dev.ipv4_addr)
    assert tap.startswith("vmtap"), resp
    assert dev.guest_type == pplab.TERMINA_VM
    assert subnet in TERMINA_POOL, subnet
    assert guest == str(subnet.network_address + 2)
    assert lxd.prefixlen == 28 and lxd.subnet_of(LXD_POOL), lxd

    # Host side: the TAP, its address, the LXD route, the mark.
    link = assert_tap(lab, tap)
    assert_locally_administered_unicast(link["address"])
    assert host_addrs(lab, tap) == [f"{subnet.network_address + 1}/30"]
    route = lab.host.routes(str(lxd))
    assert [(r["gateway"], r["dev"]) for r in route] == [(guest, tap)], route
    assert lab.nft_elements("guest_mark")[tap] == MARK_TERMINA
    assert tap in lab.nft_elements("guest_ifs")
    status_vms = lab.status()["vms"]
    assert [(v["kind"], v["id"], v["tap"], v["state"]) for v in status_vms] == \
        [("termina", 11, tap, "running")], status_vms
    assert signals.wait_for(1) == [(pplab.DEVICE_ADDED, pplab.device_key(dev))]

    # The VM pings the lan router: only masquerade brings the replies back.
    vm = lab.vm(tap)
    try:
        vm.configure(dev)
        flush_conntrack(lab, guest)
        assert vm.ping(pplab.LAN_ADDR), f"{vm.name} cannot reach the lan through {tap}"
        assert_nat(lab, guest, pplab.LAN_ADDR, pplab.HOST_UPLINK_ADDR)
        assert not lab.lan.ping(guest), "the lan should not route to the VM"

        # A container behind the VM: the host reaches it through the LXD route, and it
        # reaches the lan through NAT.
        container = str(lxd.network_address + 2)
        vm.out("ip", "addr", "add", f"{container}/32", "dev", "lo")
        assert lab.host.ping(container), f"host cannot reach {container} behind {tap}"
        flush_conntrack(lab, container)
        assert vm.ping(pplab.LAN_ADDR, interface=container), \
            f"{container} cannot reach the lan through NAT"
        assert_nat(lab, container, pplab.LAN_ADDR, pplab.HOST_UPLINK_ADDR)

        # Shut down while the VM still holds its TAP: it goes all the same.
        lab.termina_vm_shutdown(11)
        assert tap not in lab.host.links()
        assert lab.host.routes(str(lxd)) == []
        assert pplab.poll(lambda: None if not vm.relay_running() else "relay attached",
                          timeout=2) is None, "the relay still sees the TAP"
    finally:
        vm.delete()
    assert signals.wait_for(1) == [(pplab.DEVICE_REMOVED, pplab.device_key(dev))]


def test_termina_vms_get_distinct_subnets_and_tcp_works(lab, baseline):
    """Two VMs at once: distinct TAPs and subnets; and a TCP download through NAT and the
    relay, whose segments the VM's stack leaves to checksum offload."""
    a, b = lab.termina_vm_startup(21), lab.termina_vm_startup(22)
    try:
        assert a.device.ifname != b.device.ifname
        assert a.device.ipv4_subnet.base_addr != b.device.ipv4_subnet.base_addr
        assert a.container_subnet.base_addr != b.container_subnet.base_addr
        assert lab.pools_in_use()["termina"] == baseline["pools"]["termina"] + 2
        assert lab.pools_in_use()["lxd"] == baseline["pools"]["lxd"] + 2
        vm = lab.vm(b.device.ifname)
        server = lab.lan.spawn("socat", "TCP-LISTEN:7100,reuseaddr",
                               "SYSTEM:head -c 300000 /dev/zero")
        try:
            vm.configure(b.device)
            err = lab.lan.wait_listening(7100)
            assert err is None, err
            got = vm.exec("socat", "-T5", "-u", "TCP:192.0.2.1:7100,connect-timeout=5", "-",
                          text=False, timeout=15)
            assert len(got.stdout) == 300000, f"got {len(got.stdout)} bytes: {got.stderr}"
        finally:
            server.kill()
            server.wait()
            vm.delete()
    finally:
        lab.termina_vm_shutdown(21)
        lab.termina_vm_shutdown(22)


# ---- PluginVM -----------------------------------------------------------------------------

@pytest.mark.parametrize("index", [1, 5, 32])
def test_pluginvm_subnet_index_selects_subnet_and_mac(lab, baseline, index):
    resp = lab.plugin_vm_startup(100 + index, subnet_index=index)
    dev = resp.device
    subnet = pplab.subnet_of(dev.ipv4_subnet)
    try:
        assert dev.guest_type == pplab.PLUGIN_VM
        assert subnet == ipaddress.ip_network(f"100.115.93.{(index - 1) * 8}/29"), subnet
        assert pplab.wire_to_ip(dev.ipv4_addr) == str(subnet.network_address + 2)
        assert_tap(lab, dev.ifname)
        assert lab.host.mac(dev.ifname) == STABLE_MAC.format(index)
        assert host_addrs(lab, dev.ifname) == [f"{subnet.network_address + 1}/29"]
        assert lab.nft_elements("guest_mark")[dev.ifname] == MARK_PLUGINVM
    finally:
        lab.plugin_vm_shutdown(100 + index)


def test_pluginvm_reaches_the_lan_through_nat(lab, baseline, signals):
    resp = lab.plugin_vm_startup(7, subnet_index=0)
    dev = resp.device
    subnet = pplab.subnet_of(dev.ipv4_subnet)
    guest = pplab.wire_to_ip(dev.ipv4_addr)
    assert subnet.prefixlen == 29 and subnet.subnet_of(PLUGINVM_POOL), subnet
    mac = lab.host.mac(dev.ifname)
    assert not mac.startswith("42:37:05:13:17:"), "index 0 should get a random MAC"
    assert_locally_administered_unicast(mac)
    assert signals.wait_for(1) == [(pplab.DEVICE_ADDED, pplab.device_key(dev))]
    vm = lab.vm(dev.ifname)
    try:
        vm.configure(dev)
        flush_conntrack(lab, guest)
        assert vm.ping(pplab.LAN_ADDR)
        assert_nat(lab, guest, pplab.LAN_ADDR, pplab.HOST_UPLINK_ADDR)
        assert not lab.lan.ping(guest)
    finally:
        vm.delete()
        lab.plugin_vm_shutdown(7)
    assert signals.wait_for(1) == [(pplab.DEVICE_REMOVED, pplab.device_key(dev))]


# ---- ARCVM --------------------------------------------------------------------------------

def arc_slot(lab, bridge):
    """The ARC slot (0-4) of a per-uplink bridge, from its address in the kernel."""
    (addr,) = host_addrs(lab, bridge)
    net = ipaddress.ip_interface(addr).network
    return (int(net.network_address) - int(ipaddress.ip_address("100.115.92.4"))) // 4


def wait_bridges(lab, names):
    return pplab.poll(lambda: None if all(n in lab.host.links() for n in names) else
                      sorted(lab.host.links()), timeout=5, what=f"bridges {names}")


def test_arcvm_taps_bridges_and_traffic(lab, baseline, signals):
    resp = lab.arc_vm_startup(33)
    devs = list(resp.devices)
    vms = []
    try:
        assert len(devs) == 6, resp
        for i, d in enumerate(devs):
            assert d.guest_type == pplab.ARCVM, d
            assert pplab.wire_to_ip(d.ipv4_addr) == f"100.115.92.{4 * i + 2}", d
            assert str(pplab.subnet_of(d.ipv4_subnet)) == f"100.115.92.{4 * i}/30", d
            assert_tap(lab, d.ifname)
            assert lab.host.mac(d.ifname) == STABLE_MAC.format(i + 1), d.ifname
        taps = [d.ifname for d in devs]
        assert len(set(taps)) == 6
        assert host_addrs(lab, "arcbr0") == ["100.115.92.1/30"]
        assert lab.host.master(taps[0]) == "arcbr0"
        assert lab.nft_elements("guest_mark")["arcbr0"] == MARK_ARC

        # A bridge per uplink, with the TAP of its slot as its port.
        err = wait_bridges(lab, ["arc_eth0", "arc_eth1"])
        assert err is None, err
        slot = {u: arc_slot(lab, f"arc_{u}") for u in ("eth0", "eth1")}
        assert sorted(slot.values()) == [0, 1], slot
        for u, k in slot.items():
            assert lab.host.master(taps[k + 1]) == f"arc_{u}", (u, k)
            assert lab.nft_elements("guest_mark")[f"arc_{u}"] == MARK_ARC | lab.routing_tag(u)
            assert lab.nft_elements("arc_dnat")[u] == f"100.115.92.{4 * k + 6}"
        for t in taps[3:]:
            assert lab.host.master(t) is None, t
        added = signals.wait_for(2)
        assert sorted(added) == sorted((pplab.DEVICE_ADDED, k) for k in lab.kernel_devices()), \
            added
        assert lab.get_devices() == lab.kernel_devices()

        # A VM behind each uplink's TAP reaches that uplink's lan through NAT.
        for u, lan_addr, host_addr in (("eth0", pplab.LAN_ADDR, pplab.HOST_UPLINK_ADDR),
                                       ("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR)):
            d = devs[slot[u] + 1]
            vm = lab.vm(d.ifname)
            vms.append(vm)
            vm.configure(d)
            guest = pplab.wire_to_ip(d.ipv4_addr)
            flush_conntrack(lab, guest)
            assert vm.ping(lan_addr), f"the VM on {d.ifname} ({u}) cannot reach {lan_addr}"
            assert_nat(lab, guest, lan_addr, host_addr)
    finally:
        lab.arc_vm_shutdown(33)
        for vm in vms:
            vm.delete()
    state = lab.datapath_state()
    assert not [l for l in state["links"] if l.startswith(("arc", "vmtap"))], state["links"]
    removed = signals.wait_for(2)
    assert sorted(e for e, _ in removed) == [pplab.DEVICE_REMOVED] * 2, removed


def test_arcvm_slots_follow_the_order_of_the_uplinks(lab, baseline):
    """eth0 is the first ethernet uplink (it appeared first and has the lower ifindex): it
    gets ARC's first ethernet slot, 100.115.92.4/30 and TAP 1, and eth1 the second."""
    resp = lab.arc_vm_startup(34)
    try:
        err = wait_bridges(lab, ["arc_eth0", "arc_eth1"])
        assert err is None, err
        taps = [d.ifname for d in resp.devices]
        got = {u: (host_addrs(lab, f"arc_{u}"), lab.host.master(taps[k]))
               for u, k in (("eth0", 1), ("eth1", 2))}
        assert got == {"eth0": (["100.115.92.5/30"], "arc_eth0"),
                       "eth1": (["100.115.92.9/30"], "arc_eth1")}, got
    finally:
        lab.arc_vm_shutdown(34)


def test_arcvm_follows_an_uplink_that_goes_and_comes_back(fresh_lab):
    lab = fresh_lab(uplinks=2)
    sig = lab.signals()
    resp = lab.arc_vm_startup(35)
    devs = list(resp.devices)
    vm = None
    try:
        err = wait_bridges(lab, ["arc_eth0", "arc_eth1"])
        assert err is None, err
        sig.wait_for(2)
        slot = arc_slot(lab, "arc_eth1")
        dev, other = devs[slot + 1], devs[2 - slot]
        vm = lab.vm(dev.ifname)
        vm.configure(dev)
        assert vm.ping(pplab.LAN2_ADDR), "the VM cannot reach lan2 over eth1"

        lab.remove_uplink("eth1")
        removed = sig.wait_for(1)
        assert [(e, k[0]) for e, k in removed] == [(pplab.DEVICE_REMOVED, "arc_eth1")], removed
        links = lab.host.links()
        assert "arc_eth1" not in links
        # The VM's TAP stays (the VM still holds it), out of any bridge.
        assert dev.ifname in links and lab.host.master(dev.ifname) is None
        assert lab.host.master(other.ifname) == "arc_eth0"
        assert lab.pools_in_use()["arc-net"] == 1
        assert lab.get_devices() == lab.kernel_devices()

        lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
        added = sig.wait_for(1)
        assert [(e, k) for e, k in added] == \
            [(pplab.DEVICE_ADDED, ("arc_eth1", pplab.wire_to_ip(dev.ipv4_addr),
                                   str(pplab.subnet_of(dev.ipv4_subnet)), pplab.ARCVM))], added
        err = pplab.poll(lambda: None if lab.host.master(dev.ifname) == "arc_eth1" else
                         "not bridged", timeout=2, what=f"{dev.ifname} on arc_eth1")
        assert err is None, err
        assert vm.relay_running()
        assert vm.ping(pplab.LAN2_ADDR), "the VM cannot reach lan2 over the new eth1"
        assert lab.get_devices() == lab.kernel_devices()
    finally:
        lab.arc_vm_shutdown(35)
        if vm:
            vm.delete()
        sig.close()
    state = lab.datapath_state()
    assert not [l for l in state["links"] if l.startswith(("arc", "vmtap"))], state["links"]
    assert {k: v for k, v in lab.pools_in_use().items() if v} == {}


# ---- GetDevices and signals, step by step ----------------------------------------------------

def test_devices_and_signals_follow_every_step(fresh_lab):
    lab = fresh_lab(uplinks=2)
    sig = lab.signals()
    model = {}  # ifname -> device_key, from the signals alone

    def step(what, expected, pools):
        """expected: the (event, ifname, guest type) the step must signal, nothing more."""
        events = sig.wait_for(len(expected), timeout=5)
        events += sig.quiet(0.1)
        assert sorted((e, k[0], k[3]) for e, k in events) == sorted(expected), (what, events)
        for e, k in events:
            if e == pplab.DEVICE_ADDED:
                assert k[0] not in model, (what, "added twice", k)
                model[k[0]] = k
            else:
                assert model.pop(k[0], None) == k, (what, "removed unlike added", k)
        kernel = lab.kernel_devices()
        devices = lab.get_devices()
        assert devices == kernel, (what, devices, kernel)
        assert sorted(model.values()) == kernel, (what, model, kernel)
        # (The "arc" pool is checked in test_arc.py: here, the per-guest pools.)
        in_use = {k: v for k, v in lab.pools_in_use().items() if v and k != "arc"}
        assert in_use == pools, (what, in_use)

    added, removed = pplab.DEVICE_ADDED, pplab.DEVICE_REMOVED
    step("start", [], {})
    termina = lab.termina_vm_startup(1)
    step("Termina", [(added, termina.device.ifname, pplab.TERMINA_VM)],
         {"termina": 1, "lxd": 1})
    plugin = lab.plugin_vm_startup(2, subnet_index=3)
    step("PluginVM", [(added, plugin.device.ifname, pplab.PLUGIN_VM)],
         {"termina": 1, "lxd": 1, "pluginvm": 1})
    container, proc = lab.client("arc")
    lab.arc_startup(proc.pid)
    step("ARC", [(added, "arc_eth0", pplab.ARC), (added, "arc_eth1", pplab.ARC)],
         {"termina": 1, "lxd": 1, "pluginvm": 1, "arc-net": 2})
    lab.remove_uplink("eth1")
    step("eth1 gone", [(removed, "arc_eth1", pplab.ARC)],
         {"termina": 1, "lxd": 1, "pluginvm": 1, "arc-net": 1})
    assert "eth1" not in container.links()
    lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")
    step("eth1 back", [(added, "arc_eth1", pplab.ARC)],
         {"termina": 1, "lxd": 1, "pluginvm": 1, "arc-net": 2})
    assert "eth1" in container.links()
    lab.termina_vm_shutdown(1)
    step("Termina down", [(removed, termina.device.ifname, pplab.TERMINA_VM)],
         {"pluginvm": 1, "arc-net": 2})
    lab.arc_shutdown(proc.pid)
    step("ARC down", [(removed, "arc_eth0", pplab.ARC), (removed, "arc_eth1", pplab.ARC)],
         {"pluginvm": 1})
    lab.plugin_vm_shutdown(2)
    step("PluginVM down", [(removed, plugin.device.ifname, pplab.PLUGIN_VM)], {})
    assert model == {}
    sig.close()


# ---- bad input: a precise error, and nothing changes ------------------------------------------

ALL_METHODS = ["TerminaVmStartup", "TerminaVmShutdown", "PluginVmStartup", "PluginVmShutdown",
               "ArcVmStartup", "ArcVmShutdown", "ArcStartup", "ArcShutdown", "GetDevices"]


def expect_error(lab, name, fragment, fn, *args, **kw):
    before = lab.snapshot()
    with pytest.raises(pplab.DBusError) as e:
        fn(*args, **kw)
    assert e.value.name == name, e.value
    assert fragment in e.value.text, e.value
    changed = pplab.snapshot_diff(before, lab.snapshot())
    assert changed is None, f"{e.value} changed the state: {changed}"
    return e.value


@pytest.mark.parametrize("method", ALL_METHODS)
def test_malformed_oversized_and_missing_requests(lab, baseline, method):
    expect_error(lab, INVALID_ARGUMENT, f"Malformed {method}Request (4 bytes)", lab.call_raw,
                 method, b"\x08\xff\xff\xff")
    # 100 KiB of an unknown field: decodable, and refused before decoding.
    junk = b"\x7a" + bytes([0x80, 0xa0, 0x06]) + b"x" * 102400
    expect_error(lab, INVALID_ARGUMENT, f"{method}Request of 102404 bytes is larger than",
                 lab.call_raw, method, junk)
    expect_error(lab, "org.freedesktop.DBus.Error.InvalidArgs", "expecting 'ay'",
                 lab.bus().call, method, "", [])


def test_termina_duplicate_and_unknown_cids(lab, baseline):
    lab.termina_vm_startup(41)
    try:
        expect_error(lab, INVALID_ARGUMENT, "Termina VM 41 is already running",
                     lab.termina_vm_startup, 41)
        for _ in range(2):
            expect_error(lab, INVALID_ARGUMENT, "No Termina VM 42 is running",
                         lab.termina_vm_shutdown, 42)
        # A PluginVM is not a Termina VM, whatever its id.
        expect_error(lab, INVALID_ARGUMENT, "No PluginVM 41 is running",
                     lab.plugin_vm_shutdown, 41)
    finally:
        lab.termina_vm_shutdown(41)
    for _ in range(2):
        expect_error(lab, INVALID_ARGUMENT, "No Termina VM 41 is running",
                     lab.termina_vm_shutdown, 41)


def test_termina_duplicate_cid_in_flight(lab, baseline):
    """Two startups of one cid at once: one VM, and the other call is refused."""
    req = lab.pb.TerminaVmStartupRequest(cid=43).SerializeToString()
    results = lab.bus().call_many([("TerminaVmStartup", "ay", [req], ())] * 2)
    try:
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1, results
        assert errors[0].name == INVALID_ARGUMENT and "already running" in errors[0].text
        assert len([l for l in lab.host.links() if l.startswith("vmtap")]) == \
            len([l for l in baseline["datapath"]["links"] if l.startswith("vmtap")]) + 1
    finally:
        lab.termina_vm_shutdown(43)


def test_fifth_termina_vm_exhausts_the_container_subnets(lab, baseline):
    started = []
    try:
        for cid in range(51, 55):
            started.append(cid)
            lab.termina_vm_startup(cid)
        assert lab.pools_in_use()["lxd"] == 4
        err = expect_error(lab, EXHAUSTED, "No free subnet for another Termina VM",
                           lab.termina_vm_startup, 55)
        assert err
        # A freed subnet is used again.
        lab.termina_vm_shutdown(started.pop(1))
        resp = lab.termina_vm_startup(55)
        started.append(55)
        assert pplab.subnet_of(resp.container_subnet).subnet_of(LXD_POOL)
    finally:
        for cid in started:
            lab.termina_vm_shutdown(cid)


def test_pluginvm_bad_subnet_index(lab, baseline):
    expect_error(lab, INVALID_ARGUMENT, "subnet_index -1 is negative", lab.plugin_vm_startup,
                 61, subnet_index=-1)
    expect_error(lab, INVALID_ARGUMENT, "subnet_index 33 is beyond the 32 subnets",
                 lab.plugin_vm_startup, 61, subnet_index=33)
    expect_error(lab, INVALID_ARGUMENT, "beyond", lab.plugin_vm_startup, 61,
                 subnet_index=2 ** 31 - 1)
    lab.plugin_vm_startup(61, subnet_index=4)
    try:
        expect_error(lab, INVALID_ARGUMENT, "Subnet 4 of the PluginVM pool is in use",
                     lab.plugin_vm_startup, 62, subnet_index=4)
        expect_error(lab, INVALID_ARGUMENT, "PluginVM 61 is already running",
                     lab.plugin_vm_startup, 61, subnet_index=5)
        for _ in range(2):
            expect_error(lab, INVALID_ARGUMENT, "No PluginVM 62 is running",
                         lab.plugin_vm_shutdown, 62)
    finally:
        lab.plugin_vm_shutdown(61)


def test_thirty_third_pluginvm_is_refused(lab, baseline):
    ids = list(range(200, 232))
    reqs = [("PluginVmStartup", "ay",
             [lab.pb.PluginVmStartupRequest(id=i, subnet_index=0).SerializeToString()], ())
            for i in ids]
    results = lab.bus().call_many(reqs)
    try:
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors[:3]
        assert lab.pools_in_use()["pluginvm"] == 32
        expect_error(lab, EXHAUSTED, "No free subnet for another PluginVM",
                     lab.plugin_vm_startup, 232)
        expect_error(lab, INVALID_ARGUMENT, "Subnet 7 of the PluginVM pool is in use",
                     lab.plugin_vm_startup, 232, subnet_index=7)
    finally:
        stops = [("PluginVmShutdown", "ay",
                  [lab.pb.PluginVmShutdownRequest(id=i).SerializeToString()], ()) for i in ids]
        results = lab.bus().call_many(stops)
    assert not [r for r in results if isinstance(r, Exception)], results


def test_arcvm_duplicate_and_unknown(lab, baseline):
    lab.arc_vm_startup(71)
    try:
        err = wait_bridges(lab, ["arc_eth0", "arc_eth1"])
        assert err is None, err
        expect_error(lab, INVALID_ARGUMENT, "ARC is already running", lab.arc_vm_startup, 72)
        expect_error(lab, INVALID_ARGUMENT, "ARC is already running", lab.arc_vm_startup, 71)
        _, proc = lab.client()
        expect_error(lab, INVALID_ARGUMENT, "ARC is already running", lab.arc_startup, proc.pid)
        for _ in range(2):
            expect_error(lab, INVALID_ARGUMENT, "No such ARCVM is running",
                         lab.arc_vm_shutdown, 72)
        expect_error(lab, INVALID_ARGUMENT, "No such ARC container is running",
                     lab.arc_shutdown, proc.pid)
    finally:
        lab.arc_vm_shutdown(71)
    for _ in range(2):
        expect_error(lab, INVALID_ARGUMENT, "No such ARCVM is running", lab.arc_vm_shutdown, 71)


def test_tap_user_owns_the_taps(fresh_lab):
    """--tap-user: the VM monitor running as that user may open the TAPs."""
    lab = fresh_lab(daemon_args=["--tap-user=nobody"])
    resp = lab.termina_vm_startup(77)
    try:
        link = lab.host.ip_json("-d", "link", "show", "dev", resp.device.ifname)[0]
        assert link["linkinfo"]["info_data"]["user"] == "nobody", link
    finally:
        lab.termina_vm_shutdown(77)


def test_unknown_tap_user_is_refused(fresh_lab):
    lab = fresh_lab()
    p = pplab.run(lab.daemon_command(["--tap-user=no-such-user-x"]), check=False, timeout=20)
    assert p.returncode != 0 and "Invalid --tap-user=no-such-user-x: no such user" in p.stderr, p.stderr
