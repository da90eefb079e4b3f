#!/usr/bin/python3
"""The scripts/run scenario: patchpanel in a throw-away lab, a namespace connected through
it, traffic through NAT, and what was built; then running until Ctrl-C, after which nothing
is left (namespaces, processes, bus)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test" / "lib"))
import pplab  # noqa: E402  pylint: disable=wrong-import-position
import pplab.reap  # noqa: E402  pylint: disable=wrong-import-position

BOLD, RESET = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")


def step(text):
    print(f"\n{BOLD}== {text}{RESET}", flush=True)


def show(ns, *cmd):
    print(f"$ ip netns exec {ns.name} {' '.join(cmd)}")
    print(ns.exec(*cmd).stdout.rstrip(), flush=True)


def sweep_stale_lab(tag):
    """A lab of an earlier run that was killed before it could clean up: end its processes
    and delete its namespaces (pplab.reap). A run still going is left alone."""
    holder = pplab.tags.registered().get(tag)
    if holder and pplab.tags.owner_alive(holder):
        sys.exit(f"Another scripts/run is running (pid {holder.split('.')[0]}).")
    found = pplab.reap.reap_tags({tag})
    if found:
        print("Removed a lab left behind by an earlier run:\n  " + "\n  ".join(found.lines()))


def main():
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    sweep_stale_lab("pplab")
    lab = pplab.Lab(tag="pplab", log_level=os.environ.get("PP_LOG_LEVEL", "info"))
    cli = None
    try:
        step("Lab: 'pplab-host' runs patchpanel, 'pplab-lan' is its upstream router")
        lab.start()
        manager, helper = lab.daemon_pids()
        print(f"private system bus: {lab.bus_address}")
        print(f"patchpaneld pid {manager} (user {pplab.proc_status(manager)['Uid'].split()[0]}),"
              f" patchpanel-helper pid {helper}")
        print(lab.log().rstrip())

        step("A demo namespace, connected with patchpanel-cli connect-ns")
        demo, proc = lab.client("demo")
        cmd = [str(lab.build / "bin" / "patchpanel-cli"), "connect-ns", f"--pid={proc.pid}"]
        print(f"$ {' '.join(cmd[-2:])}")
        cli = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True,
                               env={"DBUS_SYSTEM_BUS_ADDRESS": lab.bus_address,
                                    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        for _ in range(5):
            print(cli.stdout.readline().rstrip())

        step(f"The demo namespace pings the lan router {pplab.LAN_ADDR} through NAT")
        show(demo, "ping", "-c", "3", "-i", "0.3", pplab.LAN_ADDR)
        show(lab.host, "conntrack", "-L", "-p", "icmp")

        step("What patchpanel created")
        show(lab.host, "ip", "-br", "addr")
        show(demo, "ip", "-br", "addr")
        show(demo, "ip", "route")
        show(lab.host, "nft", "list", "table", "inet", "patchpanel")

        step("Running. Ctrl-C removes the lab and everything in it.")
        seen = len(lab.log())
        while not stop:
            time.sleep(0.2)
            text = lab.log()
            if len(text) > seen:
                print(text[seen:], end="", flush=True)
                seen = len(text)
    finally:
        # Clean up first, talk after: printing can fail (a closed pipe), cleaning must not.
        status, tail = None, ""
        try:
            if cli and cli.poll() is None:
                cli.send_signal(signal.SIGINT)
                cli.wait(timeout=5)
            status = lab.stop_daemon() if lab.daemon else None
            tail = lab.log()[-400:] if lab.daemon_log else ""
        finally:
            lab.close()
        step("Tore down")
        print(tail.rstrip())
        print(f"patchpaneld exited with status {status}; namespaces, processes and bus removed.")


if __name__ == "__main__":
    main()
