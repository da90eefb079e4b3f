"""patchpanel-cli against a running suite: status, devices and the guest commands, as
tables and as JSON, and its exit codes."""

import json
import os
import signal
import subprocess

import pplab


def cli(lab, *args):
    return lab.cli(*args)


def test_status_table_and_json(lab):
    p = cli(lab, "status")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "Uplinks"
    eth0 = next(l for l in lines if l.split()[:1] == ["eth0"])
    # name, ifindex, technology, up, table, default marker
    assert eth0.split()[2:6] == ["ethernet", "yes", str(1000 + lab.host.ifindex("eth0")), "*"]
    assert "ARC not running" in p.stdout

    j = cli(lab, "status", "--json")
    assert j.returncode == 0, j.stderr
    st = json.loads(j.stdout)
    assert st["default_interface"] == "eth0"
    assert {p["name"] for p in st["pools"]} == {"arc", "arc-net", "termina", "netns", "lxd",
                                                "pluginvm"}


def test_guest_commands_and_devices(lab):
    p = cli(lab, "termina-vm", "start", "--cid=31", "--json")
    assert p.returncode == 0, p.stderr
    (dev,) = json.loads(p.stdout)
    assert dev["ifname"].startswith("vmtap") and dev["guest_type"] == "termina"
    try:
        p = cli(lab, "plugin-vm", "start", "--id=32", "--subnet-index=4")
        assert p.returncode == 0, p.stderr
        assert "100.115.93.24/29" in p.stdout, p.stdout
        try:
            d = cli(lab, "devices", "--json")
            assert d.returncode == 0, d.stderr
            got = {x["ifname"]: x["guest_type"] for x in json.loads(d.stdout)}
            assert got[dev["ifname"]] == "termina" and "pluginvm" in got.values(), got
            s = cli(lab, "status")
            assert "termina" in s.stdout and "pluginvm" in s.stdout, s.stdout
        finally:
            assert cli(lab, "plugin-vm", "stop", "--id=32").returncode == 0
    finally:
        assert cli(lab, "termina-vm", "stop", "--cid=31").returncode == 0
    assert json.loads(cli(lab, "devices", "--json").stdout) == []


def test_arc_commands(lab):
    ns, proc = lab.client()
    p = cli(lab, "arc", "start", f"--pid={proc.pid}")
    assert p.returncode == 0, p.stderr
    try:
        st = json.loads(cli(lab, "status", "--json").stdout)
        assert st["arc"]["kind"] == "container" and st["arc"]["pid"] == proc.pid, st["arc"]
        assert "arc0" in ns.links()
    finally:
        assert cli(lab, "arc", "stop", f"--pid={proc.pid}").returncode == 0
    p = cli(lab, "arcvm", "start", "--cid=5")
    assert p.returncode == 0 and p.stdout.count("arcvm") == 6, p.stdout + p.stderr
    assert cli(lab, "arcvm", "stop", "--cid=5").returncode == 0


def test_errors_and_usage(lab):
    p = cli(lab, "termina-vm", "stop", "--cid=999")
    assert p.returncode == 1
    assert "org.chromium.PatchPanel.Error.InvalidArgument" in p.stderr, p.stderr
    assert cli(lab, "termina-vm", "start").returncode == 2
    assert cli(lab, "plugin-vm", "start", "--id=1", "--subnet-index=x").returncode == 2
    assert cli(lab, "no-such-command").returncode == 2
    assert cli(lab, "status", "--bogus").returncode == 2
    assert cli(lab, "--help").returncode == 0


def test_port_rule_commands(lab, baseline):
    p = cli(lab, "port-rule", "create", "forwarding", "tcp", "8480", "--ifname=eth0",
            "--to=100.115.92.130:80")
    assert p.returncode == 0, p.stderr
    try:
        assert lab.nft_elements("port_fwd") == {("eth0", "tcp", 8480): ("100.115.92.130", 80)}
        assert cli(lab, "port-rule", "create", "access", "udp", "8481").returncode == 0
        assert lab.nft_elements("access_any") == {("udp", 8481): None}
        # Refused by the daemon (a duplicate, a port beyond 65535): exit 1, nothing changes.
        p = cli(lab, "port-rule", "create", "access", "udp", "8481")
        assert p.returncode == 1 and "refused" in p.stderr, p.stderr
        p = cli(lab, "port-rule", "create", "lockdown", "tcp", "65536")
        assert p.returncode == 1 and "input_dst_port 65536 is above 65535" in lab.log()
        s = cli(lab, "status")
        rows = [l.split() for l in s.stdout.splitlines()]
        assert ["FORWARDING", "tcp", "eth0", "8480", "100.115.92.130:80"] in rows, s.stdout
        assert ["ACCESS", "udp", "*", "8481"] in rows, s.stdout
        # Usage errors: exit 2.
        for args in (("create", "access", "tcp"), ("make", "access", "tcp", "1"),
                     ("create", "open", "tcp", "1"), ("create", "access", "sctp", "1"),
                     ("create", "access", "tcp", "x"), ("create", "forwarding", "tcp", "1",
                                                        "--to=100.115.92.130"),
                     ("create", "access", "tcp", "1", "--bogus")):
            assert cli(lab, "port-rule", *args).returncode == 2, args
    finally:
        cli(lab, "port-rule", "delete", "access", "udp", "8481")
        p = cli(lab, "port-rule", "delete", "forwarding", "tcp", "8480", "--ifname=eth0",
                "--to=100.115.92.130:80")
        assert p.returncode == 0, p.stderr


def test_counters_table_and_json(lab):
    assert lab.host.ping(pplab.LAN_ADDR, count=2)
    p = cli(lab, "counters")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["DEVICE", "SOURCE"]
    system = [l.split() for l in lines[1:] if l.split()[:2] == ["eth0", "system"]]
    assert system and int(system[0][2]) >= 168 and int(system[0][4]) >= 168, p.stdout

    j = cli(lab, "counters", "--json", "--device=eth0")
    assert j.returncode == 0, j.stderr
    got = {(c["device"], c["source"]): c for c in json.loads(j.stdout)}
    assert got[("eth0", "system")]["tx_packets"] >= 2, got
    assert json.loads(cli(lab, "counters", "--json", "--device=eth9").stdout) == []
    p = cli(lab, "counters", f"--device={'x' * 16}")
    assert p.returncode == 1 and "InvalidArgument" in p.stderr, p.stderr
    assert cli(lab, "counters", "--bogus").returncode == 2


def test_monitor_prints_network_device_changed_as_lines_and_json(lab):
    """`patchpanel-cli monitor`, plain and with --json, each print a VM's device coming and
    going: one line per signal, the same fields in both forms."""
    runs = {}
    try:
        for form in ("plain", "json"):
            out, err = lab.dir / f"monitor-{form}.out", lab.dir / f"monitor-{form}.err"
            with open(out, "w") as o, open(err, "w") as e:
                proc = subprocess.Popen(  # pylint: disable=consider-using-with
                    [str(lab.build / "bin" / "patchpanel-cli"), "monitor",
                     *(["--json"] if form == "json" else [])],
                    stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                    env=pplab.tagged_env(lab.tag, {**os.environ,
                                                   "DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address}))
            runs[form] = (proc, out, err)
            fail = pplab.poll(lambda e=err: None if "Monitoring" in e.read_text() else
                              "not subscribed", timeout=10, what=f"monitor ({form})")
            assert fail is None, fail
        p = cli(lab, "termina-vm", "start", "--cid=43", "--json")
        assert p.returncode == 0, p.stderr
        (dev,) = json.loads(p.stdout)
        assert cli(lab, "termina-vm", "stop", "--cid=43").returncode == 0

        def lines(form):
            return runs[form][1].read_text().splitlines()
        fail = pplab.poll(lambda: None if all(len(lines(f)) >= 2 for f in runs) else
                          {f: lines(f) for f in runs}, timeout=5, what="monitor output")
        assert fail is None, fail
        fields = f"ifname={dev['ifname']} guest_address={dev['guest_address']} " \
                 f"subnet={dev['subnet']} guest_type=termina"
        assert lines("plain") == [f"NetworkDeviceChanged {event} {fields}"
                                  for event in ("DEVICE_ADDED", "DEVICE_REMOVED")], lines("plain")
        assert [json.loads(line) for line in lines("json")] == [
            {"signal": "NetworkDeviceChanged", "event": event, "ifname": dev["ifname"],
             "guest_address": dev["guest_address"], "subnet": dev["subnet"],
             "guest_type": "termina"} for event in ("DEVICE_ADDED", "DEVICE_REMOVED")], lines("json")
    finally:
        for proc, _, err in runs.values():
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0, err.read_text()
