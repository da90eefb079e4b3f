"""A helper killed in the middle of building a guest leaves nothing a fresh daemon cannot
clear (issue 8, part 1).

Every link-creating operation is run again and again, and each time the helper is killed
(SIGKILL) at the next of its netlink messages: strace, attached to it, delivers the signal
as the helper enters its nth sendmsg(), so that call never happens. The kernel only changes
in those calls, so the kills walk through every state a crash can leave, in order, until
the operation completes unharmed. After each kill a fresh daemon must find and delete
everything the dead one built (the datapath is back to what a fresh start has, the guest's
namespace has no link of ours left) and the operation must work again; at the end every
guest type starts and stops together.
"""

import os
import shutil
import signal
import subprocess

import pytest

import pplab

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")

# More netlink messages than any operation sends: a loop that gets here never completed.
MAX_KILLS = 120


def helper_alive(pid):
    try:
        return not pplab.proc_status(pid)["State"].startswith(("Z", "X"))
    except FileNotFoundError:
        return False


class Killer:
    """strace attached to the helper, killing it as it enters its nth sendmsg() from now;
    its trace says whether it did."""

    def __init__(self, lab, pid, nth):
        self.pid = pid
        self.nth = nth
        self.trace = lab.dir / f"strace-{pid}-{nth}.txt"
        self.proc = subprocess.Popen(
            ["strace", "-qq", "-o", str(self.trace), "-e", "trace=sendmsg",
             "-e", f"inject=sendmsg:signal=KILL:when={nth}", "-p", str(pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        err = pplab.poll(self.attached, timeout=20, what=f"strace on the helper ({pid})")
        if err:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{err}: {self.proc.stderr.read()}")

    def attached(self):
        if self.proc.poll() is not None:
            return f"strace exited {self.proc.returncode}"
        try:
            tracer = pplab.proc_status(self.pid).get("TracerPid")
        except FileNotFoundError:
            return "the helper is gone"
        return None if tracer == str(self.proc.pid) else f"tracer {tracer}"

    def stop(self):
        """Detach (the helper goes on if still alive); return whether it was killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        # The nth sendmsg() was entered if the trace has it (even if strace was told to
        # detach before it saw the end). That alone does not say the signal went out: an
        # operation can look ready (its links exist) while its last messages are still on
        # the way, and a detach that lands at that entry lets the call go on unharmed. So
        # a kill is a trace that reached the nth entry and a helper that then dies.
        text = self.trace.read_text()
        entered = sum(1 for line in text.splitlines() if line.startswith("sendmsg("))
        if entered < self.nth and "killed by SIGKILL" not in text:
            return False
        return pplab.poll(lambda: "alive" if helper_alive(self.pid) else None,
                          timeout=5) is None


# ---- the operations -------------------------------------------------------------------
# Each: setup(lab) before the helper is watched, returning a context; act(lab, ctx), the
# creating call; ready(lab, ctx), None once all of it is built; undo(lab, ctx) after a
# success; after_kill(lab, ctx) before the fresh daemon starts; drop(lab, ctx) at the end.

def ours(lab):
    return lab.datapath_state()["links"]


def links_ready(*names):
    def ready(lab, _ctx):
        have = set(lab.host.links())
        missing = [n for n in names if n not in have]
        return f"missing {missing}" if missing else None
    return ready


class Op:
    name = ""

    def setup(self, lab):
        return {}

    def act(self, lab, ctx):
        raise NotImplementedError

    def ready(self, lab, ctx):
        return None

    def undo(self, lab, ctx):
        pass

    def after_kill(self, lab, ctx):
        pass

    def drop(self, lab, ctx):
        ns = ctx.get("ns")
        if ns:
            ns.delete()
            lab.clients.remove(ns)


class ConnectNs(Op):
    name = "ConnectNamespace"

    def setup(self, lab):
        ns, proc = lab.client()
        return {"ns": ns, "proc": proc}

    def act(self, lab, ctx):
        ctx["lifeline"] = pplab.Lifeline()
        lab.connect_namespace(ctx["proc"].pid, lifeline=ctx["lifeline"])

    def ready(self, lab, ctx):
        return None if len(lab.nft_elements("guest_ifs")) == 1 else "not connected"

    def undo(self, lab, ctx):
        ctx["lifeline"].close()

    def drop(self, lab, ctx):
        if "lifeline" in ctx:
            ctx["lifeline"].close()
        super().drop(lab, ctx)


class Arc(Op):
    name = "ArcStartup"

    def setup(self, lab):
        ns, proc = lab.client()
        return {"ns": ns, "proc": proc}

    def act(self, lab, ctx):
        lab.arc_startup(ctx["proc"].pid)

    ready = staticmethod(links_ready("arcbr0", "vetharc0", "arc_eth0", "vetheth0"))

    def undo(self, lab, ctx):
        lab.arc_shutdown(ctx["proc"].pid)


class ArcVm(Op):
    name = "ArcVmStartup"

    def act(self, lab, ctx):
        lab.arc_vm_startup(33)

    # Six TAPs, arcbr0, and the bridge of eth0 with its TAP.
    ready = staticmethod(links_ready("arcbr0", "arc_eth0", *(f"vmtap{i}" for i in range(6))))

    def undo(self, lab, ctx):
        lab.arc_vm_shutdown(33)


class Termina(Op):
    name = "TerminaVmStartup"

    def act(self, lab, ctx):
        lab.termina_vm_startup(7)

    def ready(self, lab, ctx):
        return None if len(lab.nft_elements("guest_ifs")) == 1 else "no TAP yet"

    def undo(self, lab, ctx):
        lab.termina_vm_shutdown(7)


class PluginVm(Op):
    name = "PluginVmStartup"

    def act(self, lab, ctx):
        lab.plugin_vm_startup(9)

    def ready(self, lab, ctx):
        return None if len(lab.nft_elements("guest_ifs")) == 1 else "no TAP yet"

    def undo(self, lab, ctx):
        lab.plugin_vm_shutdown(9)


class ArcUplink(Op):
    """An uplink that appears while ARC runs: its bridge and veth into the container."""
    name = "ARC's links to a new uplink"

    def setup(self, lab):
        ns, proc = lab.client()
        lab.arc_startup(proc.pid)
        err = pplab.poll(lambda: links_ready("arc_eth0")(lab, None), timeout=5,
                         what="ARC on eth0")
        assert err is None, err
        return {"ns": ns, "proc": proc}

    def act(self, lab, ctx):
        lab.add_uplink("eth1", pplab.LAN2_ADDR, pplab.HOST_UPLINK2_ADDR, lan_suffix="lan2")

    def ready(self, lab, ctx):
        return None if "arc_eth1" in lab.nft_elements("guest_ifs") else "arc_eth1 not yet"

    def undo(self, lab, ctx):
        lab.remove_uplink("eth1")
        lab.arc_shutdown(ctx["proc"].pid)

    def after_kill(self, lab, ctx):
        # The uplink is the lab's, not the daemon's: it goes before the fresh start, whose
        # state must then be the first start's.
        if "eth1" in lab.uplink_lans:
            lab.remove_uplink("eth1")


OPS = [ConnectNs(), Arc(), ArcVm(), Termina(), PluginVm(), ArcUplink()]


# ---- the test -------------------------------------------------------------------------

def restart_and_check(lab, baseline, leftovers, ctx):
    """A fresh daemon: the state of a first start, and nothing of ours in the guest's
    namespace (a veth's peer goes with its host end)."""
    lab.start_daemon()
    now = lab.datapath_state()
    diff = pplab.snapshot_diff(baseline, now)
    assert diff is None, f"left by the killed helper ({leftovers}), after a restart: {diff}"
    ns = ctx.get("ns")
    if ns:
        stray = [n for n in ns.links() if n != "lo"]
        assert not stray, f"left in {ns.name}: {stray}"


def all_guests_start(lab, baseline):
    """Every guest type at once, then ARCVM in ARC's place; all of it goes again."""
    ns, proc = lab.client()
    _, nsproc = lab.client()
    lab.arc_startup(proc.pid)
    lab.termina_vm_startup(70)
    lab.plugin_vm_startup(90)
    _, lifeline = lab.connect_namespace(nsproc.pid)
    err = pplab.poll(lambda: None if len(lab.nft_elements("guest_ifs")) == 5 else
                     sorted(lab.nft_elements("guest_ifs")), timeout=5, what="every guest")
    assert err is None, err
    lab.arc_shutdown(proc.pid)
    lab.arc_vm_startup(34)
    err = pplab.poll(lambda: links_ready("arcbr0", "arc_eth0")(lab, None), timeout=5,
                     what="ARCVM")
    assert err is None, err
    lab.arc_vm_shutdown(34)
    lab.termina_vm_shutdown(70)
    lab.plugin_vm_shutdown(90)
    lifeline.close()
    err = pplab.poll(lambda: pplab.snapshot_diff(baseline, lab.datapath_state()), timeout=5,
                     what="back to the start")
    assert err is None, err


@pytest.mark.parametrize("op", OPS, ids=[type(o).__name__ for o in OPS])
def test_kill_the_helper_at_every_netlink_message(fresh_lab, op):
    # Without ndproxyd: its requests for a new guest link (IPv6 on, later routes) reach
    # the helper on their own time, and the nth sendmsg() must be the operation's.
    lab = fresh_lab(daemon_args=["--ndproxy=off"])
    baseline = lab.datapath_state()
    kills = 0
    for nth in range(1, MAX_KILLS + 1):
        ctx = op.setup(lab)
        _, helper = lab.daemon_pids()
        killer = Killer(lab, helper, nth)
        killed = True
        try:
            try:
                op.act(lab, ctx)
            except (pplab.DBusError, RuntimeError):
                pass  # the helper died under the call
            err = pplab.poll(lambda: None if not helper_alive(helper) else
                             op.ready(lab, ctx), timeout=20, what=op.name)
        finally:
            killed = killer.stop()
        if not killed:
            # Never reached its nth message: the operation is complete (or completes
            # now, with nothing attached any more).
            err = err or pplab.poll(lambda: op.ready(lab, ctx), timeout=20, what=op.name)
            assert err is None, f"{err}\n{lab.log()}"
            assert helper_alive(helper), lab.log()
            break
        # Killed: the manager follows its helper; whatever was built stays in the kernel.
        assert pplab.poll(lambda: "alive" if helper_alive(helper) else None, timeout=10) is None
        kills += 1
        leftovers = ours(lab)
        assert lab.daemon.wait(timeout=10) != 0
        op.after_kill(lab, ctx)
        restart_and_check(lab, baseline, leftovers, ctx)
        op.drop(lab, ctx)
    else:
        pytest.fail(f"{op.name} never completed in {MAX_KILLS} tries")
    # Completed on the try after the last kill: it works again; and so does the rest.
    assert kills > 3, f"{op.name}: killed only {kills} times"
    op.undo(lab, ctx)
    err = pplab.poll(lambda: pplab.snapshot_diff(baseline, lab.datapath_state()), timeout=5,
                     what=f"{op.name} undone")
    assert err is None, err
    op.drop(lab, ctx)
    all_guests_start(lab, baseline)
    print(f"{op.name}: killed at each of its first {kills} netlink messages")
