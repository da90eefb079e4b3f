"""Guests have owners (issue 8 part 4): the caller who starts a guest owns it; only that
caller or root may stop it or see its details in GetStatus; GetDevices stays public.
Driven as two non-root users of every Debian system, nobody and daemon (dbus-daemon turns
away uids without a user entry), that the lab's bus lets call every method."""

import json
import pwd
import subprocess
import sys
import textwrap

import pytest

import pplab

ALICE, BOB = pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("daemon").pw_uid

# Everyone may call the daemon on this lab's bus; the daemon decides about guests.
ANYONE_MAY_CALL = """
  <policy context="default">
    <allow send_destination="org.chromium.PatchPanel"/>
  </policy>"""

# Runs as a given uid: performs one action, prints "ok ..." or the D-Bus error's name.
ACT = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, sys.argv[1])
    import pplab
    uid = int(sys.argv[3])
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
    lab = pplab.Lab.__new__(pplab.Lab)
    lab.pb = pplab.import_protos()
    lab._bus = pplab.Bus(sys.argv[2])
    what, arg = sys.argv[4], int(sys.argv[5])
    try:
        if what == "status":
            st = lab.status()
            print("ok", json.dumps({"vms": [v["id"] for v in st["vms"]],
                                    "arc": st["arc"] and st["arc"].get("cid"),
                                    "arc_pid": st["arc"] and st["arc"].get("pid"),
                                    "ns": [n["pid"] for n in st["connected_namespaces"]],
                                    "ns_total": st["connected_namespaces_total"]}))
        elif what == "list":  # every page of ListConnectedNamespaces, arg a page
            pids, offset = [], 0
            while True:
                page = lab.list_connected_namespaces(offset, arg)
                pids += [n["pid"] for n in page["connected_namespaces"]]
                offset += arg
                if not page["connected_namespaces"]:
                    break
            print("ok", json.dumps({"ns": pids, "total": page["total"]}))
        elif what == "devices":
            print("ok", json.dumps([d[0] for d in lab.get_devices()]))
        elif what == "connect":
            resp, lifeline = lab.connect_namespace(arg)
            print("ok", resp.host_ifname, flush=True)
            sys.stdin.read()  # hold the lifeline until told
        else:
            method, field = {
                "termina-start": ("TerminaVmStartup", "cid"),
                "termina-stop": ("TerminaVmShutdown", "cid"),
                "plugin-start": ("PluginVmStartup", "id"),
                "plugin-stop": ("PluginVmShutdown", "id"),
                "arcvm-start": ("ArcVmStartup", "cid"),
                "arcvm-stop": ("ArcVmShutdown", "cid"),
                "arc-start": ("ArcStartup", "pid"),
                "arc-stop": ("ArcShutdown", "pid"),
            }[what]
            lab.request(method, **{field: arg})
            print("ok")
    except pplab.DBusError as e:
        print(e.name, e.text)
""")


# Room for more connected namespaces than GetStatus lists (test_status_pages).
NETNS_POOL = "--netns-pool=100.115.96.0/30x128"
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"


@pytest.fixture(scope="module")
def olab():
    from conftest import finish_lab, make_lab  # pylint: disable=import-outside-toplevel
    lab = make_lab(daemon_args=[NETNS_POOL], extra_policy=ANYONE_MAY_CALL)
    yield lab
    finish_lab(lab)


def act(lab, uid, what, arg=0):
    p = subprocess.run([sys.executable, "-c", ACT, str(lab.pylib), lab.bus_address, str(uid),
                        what, str(arg)], capture_output=True, text=True, timeout=20)
    out = p.stdout.strip()
    assert out, p.stderr
    return out


def status_of(lab, uid):
    out = act(lab, uid, "status")
    assert out.startswith("ok "), out
    return json.loads(out[3:])


def test_vm_owner_stops_others_cannot(olab):
    assert act(olab, ALICE, "termina-start", 11) == "ok"
    try:
        out = act(olab, BOB, "termina-stop", 11)
        assert out.startswith("org.freedesktop.DBus.Error.AccessDenied"), out
        assert "started by another user" in out, out
        # Nothing changed: the VM still runs, its device is still listed, for anyone.
        assert 11 in status_of(olab, ALICE)["vms"]
        devices = act(olab, BOB, "devices")
        assert any(name.startswith("vmtap") for name in json.loads(devices[3:])), devices
        # Its details are its owner's (and root's), not another user's.
        assert 11 not in status_of(olab, BOB)["vms"]
        assert 11 in [v["id"] for v in olab.status()["vms"]]
        assert [v["owner_uid"] for v in olab.status()["vms"] if v["id"] == 11] == [ALICE]
    finally:
        assert act(olab, ALICE, "termina-stop", 11) == "ok"
    assert 11 not in status_of(olab, ALICE)["vms"]


def test_root_may_stop_anyones_guest(olab):
    assert act(olab, BOB, "plugin-start", 3) == "ok"
    out = act(olab, ALICE, "plugin-stop", 3)
    assert out.startswith("org.freedesktop.DBus.Error.AccessDenied"), out
    olab.plugin_vm_shutdown(3)
    assert 3 not in status_of(olab, BOB)["vms"]


def test_arcvm_has_an_owner(olab):
    assert act(olab, BOB, "arcvm-start", 5) == "ok"
    try:
        out = act(olab, ALICE, "arcvm-stop", 5)
        assert out.startswith("org.freedesktop.DBus.Error.AccessDenied"), out
        assert status_of(olab, ALICE)["arc"] is None
        assert status_of(olab, BOB)["arc"] == 5
    finally:
        assert act(olab, BOB, "arcvm-stop", 5) == "ok"


def test_arc_container_has_an_owner(olab):
    ns, _ = olab.client()
    container = ns.sleeper(uid=ALICE)
    assert act(olab, ALICE, "arc-start", container.pid) == "ok"
    try:
        out = act(olab, BOB, "arc-stop", container.pid)
        assert out.startswith("org.freedesktop.DBus.Error.AccessDenied"), out
        # Still running, and its details are its owner's and root's only.
        assert status_of(olab, ALICE)["arc_pid"] == container.pid
        assert status_of(olab, BOB)["arc_pid"] is None
        assert (olab.status()["arc"]["state"], olab.status()["arc"]["owner_uid"]) == \
            ("running", ALICE), olab.status()["arc"]
    finally:
        assert act(olab, ALICE, "arc-stop", container.pid) == "ok"
    assert olab.status()["arc"] is None


def connect_as(lab, uid):
    """A new client namespace with a process of uid in it, connected by uid: (the
    namespace, the process, the holder, whose stdin closed disconnects it)."""
    ns, _ = lab.client()
    sleeper = ns.sleeper(uid=uid)
    holder = subprocess.Popen([sys.executable, "-c", ACT, str(lab.pylib), lab.bus_address,
                               str(uid), "connect", str(sleeper.pid)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = holder.stdout.readline().strip()
    if not line.startswith("ok arc_ns"):
        holder.stdin.close()
        holder.wait(timeout=10)
        raise AssertionError(line)
    return ns, sleeper, holder


def test_connected_namespaces_are_their_owners(olab):
    _, sleeper, holder = connect_as(olab, ALICE)
    try:
        assert sleeper.pid in status_of(olab, ALICE)["ns"]
        assert sleeper.pid not in status_of(olab, BOB)["ns"]
        assert sleeper.pid in [n["pid"] for n in olab.status()["connected_namespaces"]]
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    err = pplab.poll(lambda: None if sleeper.pid not in [
        n["pid"] for n in olab.status()["connected_namespaces"]] else "still connected",
        timeout=5, what="disconnect")
    assert err is None, err


def all_pages(lab, limit):
    """Every page of ListConnectedNamespaces with this limit, until one comes back empty:
    (the pids in order, the totals the pages gave)."""
    pids, totals, offset = [], set(), 0
    while True:
        page = lab.list_connected_namespaces(offset, limit)
        assert page["offset"] == offset, page
        assert len(page["connected_namespaces"]) <= limit, page
        totals.add(page["total"])
        if not page["connected_namespaces"]:
            return pids, totals
        pids += [n["pid"] for n in page["connected_namespaces"]]
        offset += limit


def test_status_pages(olab):
    """Issue 14: GetStatus lists the first 100 connected namespaces a caller may see and
    their total; ListConnectedNamespaces pages through all of them, for the same callers."""
    held = []
    ns, alices, holder = connect_as(olab, ALICE)
    clients = [ns]
    try:
        for _ in range(104):
            ns, proc = olab.client()
            clients.append(ns)
            held.append((proc.pid, olab.connect_namespace(proc.pid)[1]))
        everyone = {pid for pid, _ in held} | {alices.pid}

        st = olab.status()
        listed = [n["pid"] for n in st["connected_namespaces"]]
        assert (len(listed), st["connected_namespaces_total"]) == (100, 105), listed

        pids, totals = all_pages(olab, 40)
        assert totals == {105}, totals
        assert len(pids) == 105 and set(pids) == everyone, sorted(everyone - set(pids))
        assert pids[:100] == listed  # the same order as GetStatus
        far = olab.list_connected_namespaces(1000, 100)
        assert far == {"total": 105, "offset": 1000, "connected_namespaces": []}, far

        for limit in (0, 101):
            with pytest.raises(pplab.DBusError) as e:
                olab.list_connected_namespaces(0, limit)
            assert e.value.name == INVALID_ARGS and "1 to 100" in e.value.text, e.value

        # A non-root caller sees only theirs, in both.
        theirs = status_of(olab, ALICE)
        assert (theirs["ns"], theirs["ns_total"]) == ([alices.pid], 1), theirs
        out = act(olab, ALICE, "list", 40)
        assert json.loads(out[3:]) == {"ns": [alices.pid], "total": 1}, out
        out = act(olab, BOB, "list", 100)
        assert json.loads(out[3:]) == {"ns": [], "total": 0}, out
        out = act(olab, BOB, "list", 0)
        assert out.startswith(INVALID_ARGS), out

        # patchpanel-cli status shows every one of them.
        cli = olab.cli("status")
        assert cli.returncode == 0, cli.stderr
        section = cli.stdout.split("Connected namespaces\n")[1].split("\nPools\n")[0]
        rows = [int(l.split()[0]) for l in section.splitlines()[1:]]
        assert sorted(rows) == sorted(everyone), cli.stdout
    finally:
        for _, lifeline in held:
            lifeline.close()
        holder.stdin.close()
        holder.wait(timeout=10)
        for ns in clients:
            ns.delete()
    err = pplab.poll(lambda: None if olab.status()["connected_namespaces_total"] == 0
                     else "still connected", timeout=10, what="disconnect")
    assert err is None, err
