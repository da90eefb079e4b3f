"""Kernel-state snapshots: what patchpanel owns in a namespace, read from the kernel
(links, nftables sets and maps, routes, rules, the guest devices), and a readable diff of
two snapshots. Leak checks compare a snapshot taken before a test with one taken after.
"""

import ipaddress
import json

from .client import ARC, ARCVM, PLUGIN_VM, RTPROT_PATCHPANEL, TERMINA_VM


def datapath_state(host):
    """What patchpanel owns in the namespace host (a Netns), for leak checks: our links,
    the elements of our sets and maps, routes and rules."""
    links = sorted(n for n in host.links()
                   if n.startswith(("arc_", "arcbr", "vmtap", "veth")))
    elements = {}
    chains = []
    # Our main table; the counters' table only ever grows.
    listing = host.exec("nft", "-j", "list", "table", "inet", "patchpanel")
    if listing.returncode == 0:
        for item in json.loads(listing.stdout)["nftables"]:
            for kind in ("set", "map"):
                if kind in item:
                    elements[item[kind]["name"]] = len(item[kind].get("elem", []))
            if "chain" in item:
                chains.append(item["chain"]["name"])

    def stable(route):
        # Whether a link has a carrier comes and goes (a TAP gets one when its VM
        # attaches): it says nothing about what was left behind.
        route["flags"] = [f for f in route.get("flags", []) if f != "linkdown"]
        return json.dumps(route, sort_keys=True)
    routes = sorted(stable(r) for r in host.routes("table", "all"))
    routes6 = sorted(stable(r) for r in host.ip_json(
        "-6", "route", "show", "table", "all", "proto", str(RTPROT_PATCHPANEL)))
    rules = host.out("ip", "rule", "show")
    rules6 = host.out("ip", "-6", "rule", "show")
    # The proxy entries of guests' IPv6 addresses (only ours are ever made in a lab).
    proxies6 = sorted(host.out("ip", "-6", "neigh", "show", "proxy").splitlines())
    return {"links": links, "elements": elements, "chains": sorted(chains),
            "routes": routes, "routes6": routes6, "rules": rules, "rules6": rules6,
            "proxies6": proxies6}


def nft_elements(host, name, table="patchpanel"):
    """Elements of one of our sets or maps in the namespace host: {key: value, or None
    for a set}; concatenations become tuples, e.g.
    {("eth0", "tcp", 8080): ("100.115.92.130", 80)}."""
    def plain(v):
        if isinstance(v, dict) and "concat" in v:
            return tuple(plain(x) for x in v["concat"])
        if isinstance(v, dict) and "elem" in v:
            return plain(v["elem"]["val"])
        return v
    data = host.nft_json("list", "table", "inet", table)
    for item in data["nftables"]:
        obj = item.get("map") or item.get("set")
        if obj and obj["name"] == name:
            out = {}
            for e in obj.get("elem", []):
                if isinstance(e, list):
                    out[plain(e[0])] = plain(e[1])
                else:
                    out[plain(e)] = None
            return out
    raise KeyError(f"no set or map {name} in table inet {table}")


def kernel_devices(host):
    """The guest devices GetDevices should list, read from the kernel as device_key()
    tuples: each ARC bridge arc_<uplink> (ARC when the container's vetharc0 exists,
    else ARCVM) and each VM TAP with an address (Termina in 100.115.92.0/24, PluginVM
    in 100.115.93.0/24); the guest address is the one after the host side's."""
    links = host.links()
    arc_type = ARC if "vetharc0" in links else ARCVM
    out = []
    for name in links:
        if not name.startswith(("arc_", "vmtap")):
            continue
        for a in host.ip_json("-4", "addr", "show", "dev", name):
            for info in a.get("addr_info", []):
                iface = ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}")
                if name.startswith("arc_"):
                    kind = arc_type
                elif iface.ip in ipaddress.ip_network("100.115.93.0/24"):
                    kind = PLUGIN_VM
                else:
                    kind = TERMINA_VM
                out.append((name, str(iface.ip + 1), str(iface.network), kind))
    return sorted(out)


def snapshot(lab):
    """Everything a test must leave as it found it: the datapath_state() of the lab's host
    and, from the daemon, the subnets in use per pool and the devices."""
    return {"datapath": datapath_state(lab.host), "pools": lab.pools_in_use(),
            "devices": lab.get_devices()}


def snapshot_diff(expected, now):
    """None if two snapshot()s (or datapath_state()s) are equal, else a readable list of
    what was expected but is missing ("-") and what is there but was not expected ("+")."""
    if expected == now:
        return None
    out = []

    def walk(path, a, b):
        if a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b), key=str):
                walk(f"{path}.{k}", a.get(k), b.get(k))
        elif isinstance(a, list) and isinstance(b, list):
            out.extend(f"{path} - {x}" for x in a if x not in b)
            out.extend(f"{path} + {x}" for x in b if x not in a)
        elif isinstance(a, str) and isinstance(b, str) and "\n" in a + b:
            walk(path, a.splitlines(), b.splitlines())
        else:
            out.append(f"{path}: {a!r} -> {b!r}")
    walk("", expected, now)
    return out or ["(order differs)"]


