"""Living next to other firewalls: another table's base chain that drops by default where
guests' traffic passes (Docker sets FORWARD to DROP) is detected at start and whenever the
ruleset changes, logged with a fix, and shown in the status; the fix works."""

import shlex

import pytest

import pplab


def foreign_drops(lab):
    return lab.status()["firewall"]["foreign_drops"]


def wait_for_drops(lab, want):
    """Wait until the status lists exactly the (family, table, chain, hook) in want."""
    def check():
        got = sorted((d["family"], d["table"], d["chain"], d["hook"]) for d in foreign_drops(lab))
        return None if got == sorted(want) else got
    err = pplab.poll(check, timeout=5, what="foreign drops in the status")
    assert err is None, err


def fix_commands(drop):
    """The commands of a drop's fix text, as argument lists."""
    text = drop["fix"].split("e.g. ", 1)[1].split(" (with Docker")[0]
    return [shlex.split(c.strip()) for c in text.split(";")]


@pytest.fixture
def other_table(lab, baseline):
    """A table of someone else's in the lab's host, removed afterwards."""
    made = []

    def make(family, table, chain, hook, policy="drop"):
        lab.host.out("nft", "add", "table", family, table)
        lab.host.out("nft", "add", "chain", family, table, chain,
                     f"{{ type filter hook {hook} priority 0; policy {policy}; }}")
        made.append((family, table))
    yield make
    for family, table in made:
        lab.host.exec("nft", "delete", "table", family, table)
    lab.host.exec("iptables", "-F")
    lab.host.exec("iptables", "-P", "FORWARD", "ACCEPT")
    lab.host.exec("nft", "delete", "table", "ip", "filter")
    wait_for_drops(lab, [])


def test_forward_drop_is_detected_and_its_fix_works(lab, other_table):
    ns, proc = lab.client()
    _, lifeline = lab.connect_namespace(proc.pid)
    try:
        assert ns.ping(pplab.LAN_ADDR)
        other_table("inet", "firewalld_like", "fguard", "forward")
        wait_for_drops(lab, [("inet", "firewalld_like", "fguard", "forward")])
        assert "drops by default at hook forward" in lab.log()
        status = lab.cli("status")
        assert status.returncode == 0, status.stderr
        assert ("WARNING: table inet firewalld_like, chain fguard drops by default at hook "
                "forward:") in status.stdout, status.stdout
        # It does break the guest...
        assert not ns.ping(pplab.LAN_ADDR, count=1, wait=1)
        # ...and the fix the status gives repairs it.
        (drop,) = foreign_drops(lab)
        commands = fix_commands(drop)
        assert commands and all(c[0] == "nft" for c in commands), drop["fix"]
        for c in commands:
            lab.host.out(*c)
        assert ns.ping(pplab.LAN_ADDR)
        # Still a drop policy: still reported.
        wait_for_drops(lab, [("inet", "firewalld_like", "fguard", "forward")])
        # Policy accept: no longer.
        lab.host.out("nft", "add", "chain", "inet", "firewalld_like", "fguard",
                     "{ type filter hook forward priority 0; policy accept; }")
        wait_for_drops(lab, [])
    finally:
        lifeline.close()


def test_docker_style_iptables_drop_and_input_drop(lab, other_table):
    ns, proc = lab.client()
    _, lifeline = lab.connect_namespace(proc.pid)
    try:
        lab.host.out("iptables", "-P", "FORWARD", "DROP")
        wait_for_drops(lab, [("ip", "filter", "FORWARD", "forward")])
        assert not ns.ping(pplab.LAN_ADDR, count=1, wait=1)
        (drop,) = foreign_drops(lab)
        commands = fix_commands(drop)
        assert commands and all(c[0] == "iptables" for c in commands), drop["fix"]
        for c in commands:
            lab.host.out(*c)
        assert ns.ping(pplab.LAN_ADDR)

        other_table("ip6", "guard", "inguard", "input")
        wait_for_drops(lab, [("ip", "filter", "FORWARD", "forward"), ("ip6", "guard", "inguard", "input")])
        text = [d["fix"] for d in foreign_drops(lab) if d["hook"] == "input"][0]
        assert "ACCESS" in text
    finally:
        lifeline.close()


def test_a_drop_present_at_start_is_reported(fresh_lab):
    lab = fresh_lab()
    lab.stop_daemon()
    lab.host.out("nft", "add", "table", "ip", "early")
    lab.host.out("nft", "add", "chain", "ip", "early", "fguard",
                 "{ type filter hook forward priority 10; policy drop; }")
    lab.start_daemon()
    wait_for_drops(lab, [("ip", "early", "fguard", "forward")])
    (drop,) = foreign_drops(lab)
    assert drop["priority"] == 10
    # Other hooks and families that guests' traffic does not cross are not reported.
    lab.host.out("nft", "add", "table", "ip", "out_only")
    lab.host.out("nft", "add", "chain", "ip", "out_only", "oguard",
                 "{ type filter hook output priority 0; policy drop; }")
    lab.host.out("nft", "add", "table", "arp", "arpguard")
    lab.host.out("nft", "add", "chain", "arp", "arpguard", "iguard",
                 "{ type filter hook input priority 0; policy drop; }")
    lab.host.out("nft", "delete", "table", "ip", "out_only")
    wait_for_drops(lab, [("ip", "early", "fguard", "forward")])
    lab.host.out("nft", "delete", "table", "arp", "arpguard")
    lab.host.out("nft", "delete", "table", "ip", "early")
    wait_for_drops(lab, [])
    assert "No other table drops guests' traffic by default any more" in lab.log()
