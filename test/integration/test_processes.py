"""The suite as processes: privileges, seccomp, fate sharing, restart, shutdown."""

import os
import signal
import subprocess
import sys
import textwrap
import time


import pplab

HELPER_CAPS = (1 << 12) | (1 << 13) | (1 << 19) | (1 << 21)  # NET_ADMIN NET_RAW SYS_PTRACE SYS_ADMIN


def wait_exit(proc, timeout=5):
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def test_privileges_and_seccomp(lab):
    manager, helper = lab.daemon_pids()
    assert manager and helper
    m = pplab.proc_status(manager)
    assert m["Uid"].split()[0] != "0" and set(m["Uid"].split()) == {m["Uid"].split()[0]}, m["Uid"]
    assert int(m["CapEff"], 16) == 0
    assert int(m["CapAmb"], 16) == 0
    assert m["NoNewPrivs"] == "1"
    assert m["Seccomp"] == "2"
    assert m["Groups"] == ""

    h = pplab.proc_status(helper)
    assert h["Uid"].split() == ["0"] * 4
    assert int(h["CapEff"], 16) == HELPER_CAPS, h["CapEff"]
    assert int(h["CapPrm"], 16) == HELPER_CAPS, h["CapPrm"]
    assert int(h["CapBnd"], 16) == HELPER_CAPS, h["CapBnd"]
    assert int(h["CapInh"], 16) == 0
    assert int(h["CapAmb"], 16) == 0
    assert h["NoNewPrivs"] == "1"
    assert h["Seccomp"] == "2"
    # Its only descriptors: std streams, its socket to the manager, a signalfd, its netns,
    # and six sockets: rtnetlink through libnl and raw (batches), an AF_UNIX one for
    # ioctls, the nftables monitor, libnftables' (tables at start and stop) and the binary
    # nftables batches'. One more than these is a descriptor someone forgot to close.
    fds = {fd: os.readlink(f"/proc/{helper}/fd/{fd}") for fd in os.listdir(f"/proc/{helper}/fd")}
    assert len(fds) <= 12, "\n".join(f"{k} {v}" for k, v in sorted(fds.items()))


def connect_one(lab):
    ns, proc = lab.client()
    resp, lifeline = lab.connect_namespace(proc.pid)
    return ns, resp, lifeline


def assert_no_leftovers_after_restart(lab, stale_ifname):
    lab.start_daemon()
    state = lab.datapath_state()
    assert stale_ifname not in state["links"], state
    guest_sets = ("guest_mark", "guest_ifs", "arc_dnat")
    assert all(state["elements"][k] == 0 for k in guest_sets), state
    # And it works again.
    ns, resp, lifeline = connect_one(lab)
    try:
        assert ns.ping(pplab.LAN_ADDR)
    finally:
        lifeline.close()


def test_killing_the_helper_stops_the_manager(fresh_lab):
    lab = fresh_lab()
    _, resp, lifeline = connect_one(lab)
    _, helper = lab.daemon_pids()
    os.kill(helper, signal.SIGKILL)
    status = wait_exit(lab.daemon)
    lifeline.close()
    assert status not in (None, 0), f"manager went on or exited 0 ({status}):\n{lab.log()}"
    assert "helper is gone" in lab.log()
    # The helper died without cleaning up: a restart must clear what it left.
    assert resp.host_ifname in lab.host.links()
    assert_no_leftovers_after_restart(lab, resp.host_ifname)


def test_killing_the_manager_stops_the_helper(fresh_lab):
    lab = fresh_lab()
    _, resp, lifeline = connect_one(lab)
    manager, helper = lab.daemon_pids()
    os.kill(manager, signal.SIGKILL)
    lab.daemon.wait()
    err = pplab.poll(lambda: None if not os.path.exists(f"/proc/{helper}") or
                     pplab.proc_status(helper).get("State", "").startswith("Z") else "alive",
                     timeout=5, what="helper still running")
    lifeline.close()
    assert err is None, err
    # The helper tore down what it built on its way out.
    state = lab.datapath_state()
    assert resp.host_ifname not in state["links"]
    assert state["elements"] == {}, state
    assert_no_leftovers_after_restart(lab, resp.host_ifname)


def test_sigterm_tears_everything_down(fresh_lab):
    lab = fresh_lab()
    held = [connect_one(lab) for _ in range(3)]
    _, helper = lab.daemon_pids()
    assert lab.stop_daemon(signal.SIGTERM) == 0, lab.log()
    for ns, resp, lifeline in held:
        lifeline.close()
        assert resp.peer_ifname not in ns.links()
    state = lab.datapath_state()
    assert state["links"] == [] and state["elements"] == {}, state
    assert lab.host.exec("nft", "list", "table", "inet", "patchpanel").returncode != 0
    assert not os.path.exists(f"/proc/{helper}") or \
        pplab.proc_status(helper)["State"].startswith("Z")


def test_sigint_is_an_orderly_shutdown_too(fresh_lab):
    lab = fresh_lab()
    _, _, lifeline = connect_one(lab)
    assert lab.stop_daemon(signal.SIGINT) == 0, lab.log()
    lifeline.close()
    assert lab.datapath_state()["links"] == []


def test_second_instance_is_refused_and_changes_nothing(lab):
    ns, resp, lifeline = connect_one(lab)
    try:
        before = lab.datapath_state()
        second = subprocess.run([str(a) for a in lab.daemon_command()], capture_output=True,
                                text=True, timeout=20)
        assert second.returncode != 0
        assert "already running" in second.stderr, second.stderr
        assert lab.datapath_state() == before
        assert ns.ping(pplab.LAN_ADDR)
    finally:
        lifeline.close()


def test_refuses_to_run_as_root_user_or_unknown_user(fresh_lab):
    lab = fresh_lab()
    for args, text in ((["--user=root"], "unprivileged user"),
                       (["--user=no-such-user-x"], "Invalid --user=no-such-user-x: no such user"),
                       (["--seccomp=maybe"], "Invalid --seccomp"),
                       (["--netns-pool=100.115.92.0/30x16"], "overlap"),
                       (["--netns-pool=100.115.96.1/30x16"], "Invalid --netns-pool")):
        p = subprocess.run([str(a) for a in lab.daemon_command(args)], capture_output=True,
                           text=True, timeout=20)
        assert p.returncode != 0 and text in p.stderr, (args, p.stderr)


CALL_AS_NOBODY = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    import pplab
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
    bus = pplab.Bus(sys.argv[2])
    lifeline = pplab.Lifeline()
    try:
        bus.call("ConnectNamespace", "ayh", [b"", 0], [lifeline.write_fd])
        print("allowed")
    except pplab.DBusError as e:
        print(e.name)
""")


def test_bus_policy_denies_other_users(lab):
    lib = str(lab.pylib)
    p = subprocess.run([sys.executable, "-c", CALL_AS_NOBODY, lib, lab.bus_address],
                       capture_output=True, text=True, timeout=20)
    assert p.stdout.strip() == "org.freedesktop.DBus.Error.AccessDenied", p.stdout + p.stderr


CONNECT_AS_NOBODY = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, sys.argv[1])
    import pplab
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
    lab = pplab.Lab.__new__(pplab.Lab)
    lab.pb = pplab.import_protos()
    lab._bus = pplab.Bus(sys.argv[2])
    try:
        resp, lifeline = lab.connect_namespace(int(sys.argv[3]))
        print("connected", resp.host_ifname, flush=True)
        lifeline.close()
    except pplab.DBusError as e:
        print(e.name, e.text, flush=True)
""")

NOBODY_MAY_CONNECT = """
  <policy user="nobody">
    <allow send_destination="org.chromium.PatchPanel" send_interface="org.chromium.PatchPanel"
           send_member="ConnectNamespace"/>
  </policy>"""


def test_callers_other_than_root_connect_only_their_own_processes(fresh_lab):
    lab = fresh_lab(extra_policy=NOBODY_MAY_CONNECT)
    baseline = lab.datapath_state()
    lib = str(lab.pylib)
    env = {**os.environ, "PP_BUILD_DIR": str(lab.build)}

    def as_nobody(pid):
        p = subprocess.run([sys.executable, "-c", CONNECT_AS_NOBODY, lib, lab.bus_address,
                            str(pid)], capture_output=True, text=True, timeout=20, env=env)
        return p.stdout.strip() + p.stderr.strip()

    own, _ = lab.client()
    out = as_nobody(own.sleeper(uid=65534).pid)
    assert out.startswith("connected arc_ns"), out

    _, roots = lab.client()
    out = as_nobody(roots.pid)
    assert out.startswith("org.freedesktop.DBus.Error.AccessDenied"), out
    assert "belongs to another user" in out, out

    err = pplab.poll(lambda: None if lab.datapath_state() == baseline else "busy", timeout=5,
                     what="teardown")
    assert err is None, err


def test_fifty_concurrent_connects(fresh_lab):
    lab = fresh_lab(daemon_args=["--netns-pool=100.115.96.0/30x64"])
    baseline = lab.datapath_state()
    clients = [lab.client() for _ in range(50)]
    lifelines = [pplab.Lifeline() for _ in clients]
    calls = [("ConnectNamespace", "ayh", [lab.connect_ns_request(proc.pid), 0], [l.write_fd])
             for (_, proc), l in zip(clients, lifelines)]
    bus = lab.bus()
    started = time.monotonic()
    results = bus.call_many(calls)
    elapsed = time.monotonic() - started
    try:
        errors = [r for r in results if isinstance(r, Exception)]
        assert not errors, errors[:3]
        resps = []
        for body in results:
            r = lab.pb.ConnectNamespaceResponse()
            r.ParseFromString(bytes(body[0]))
            resps.append(r)
        assert len({r.ipv4_subnet.base_addr for r in resps}) == 50
        assert len({r.host_ifname for r in resps}) == 50
        state = lab.datapath_state()
        assert len(state["links"]) == 50 and state["elements"]["guest_ifs"] == 50
        for (ns, _), r in zip(clients[::7], resps[::7]):
            assert ns.ping(pplab.LAN_ADDR), r.host_ifname
        print(f"50 concurrent connects in {elapsed * 1000:.0f} ms")
    finally:
        for l in lifelines:
            l.close()
    err = pplab.poll(lambda: None if lab.datapath_state() == baseline else "busy", timeout=10,
                     what="teardown of 50 namespaces")
    assert err is None, err


def test_hundreds_of_lifelines_closing_at_once(fresh_lab):
    """More teardown requests at once than the socket to the helper can buffer: neither
    process may block on the other (with both
    buffers full they once deadlocked: about 560 at once were enough)."""
    lab = fresh_lab(daemon_args=["--netns-pool=100.115.96.0/30x1024"])
    baseline = lab.datapath_state()
    clients = [lab.client() for _ in range(700)]
    held = [lab.connect_namespace(proc.pid) for _, proc in clients]
    assert len(lab.datapath_state()["links"]) == 700
    for _, lifeline in held:
        lifeline.close()
    err = pplab.poll(lambda: None if lab.datapath_state() == baseline else
                     f"{len(lab.datapath_state()['links'])} links left", timeout=60,
                     interval=0.5, what="teardown of 700 namespaces")
    assert err is None, err
    # Still serving.
    ns, resp, lifeline = connect_one(lab)
    try:
        assert ns.ping(pplab.LAN_ADDR)
    finally:
        lifeline.close()
