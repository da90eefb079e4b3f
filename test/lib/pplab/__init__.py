"""pplab: throw-away network labs for patchpanel, shared by the integration tests, the
benchmarks and scripts/run. One module per concern:

    tags     how every process and namespace of a lab carries the lab's tag
    reap     finding and ending what a lab left behind (python3 -m pplab.reap [TAG])
    netns    run/poll helpers, a namespace (Netns), a VM stand-in behind a TAP (VmNetns)
    topo     the topology builder: namespaces under one tag joined by veths (Topology)
    peers    third-party daemons started inside a namespace (radvd, avahi, gssdp, socat,
             iperf3, adb and a fake adbd): ns.add_peer(Radvd(prefix="2001:db8:1::/64"))
    client   the bus (Bus, SignalCollector, DBusError) and the typed D-Bus calls (Client)
    guests   an ARC container, the client's side of a lifeline
    state    kernel-state snapshots and their diff
    suite    the Lab: a private bus and patchpaneld in a host namespace with its lans
    helper   patchpanel-helper alone, the test playing the manager (DirectHelper)
    paths    the checkout, the build under test, and a copy for other users

Everything is re-exported here, so `import pplab` and `pplab.Lab`, `pplab.poll`, ... work
as they always did; pplab.reap is imported on demand (`import pplab.reap`).
"""

from .tags import OWNER, OWNER_ENV, TAG_ENV, issued_tags, tagged_env
from .paths import (REPO, POLICY_FILE, build_dir, export_pythonpath,
                    import_protos)
from .netns import (NAME_CLIENT, NAME_SERVER, TAPRELAY, Netns, VmNetns,
                    as_uid, cpu_seconds, poll, proc_status, run)
from .client import (ARC, ARCVM, BUS_INTERFACE, BUS_NAME, BUS_PATH,
                     DEVICE_ADDED, DEVICE_REMOVED, EXHAUSTED, FAILED, INVALID_ARGUMENT,
                     PLUGIN_VM, RTPROT_PATCHPANEL, RULE_PRIORITY, STATUS_INTERFACE,
                     TERMINA_VM, Bus, Client, DBusError, SignalCollector, device_key,
                     routing_table, subnet_of, wire_to_ip)
from .guests import ArcContainer, Lifeline
from .state import (datapath_state, kernel_devices, nft_elements, snapshot,
                    snapshot_diff)
from .topo import Topology
from .peers import (AdbServer, AvahiDaemon, FakeAdbd, GssdpResponder, Iperf3Server,
                    Peer, Radvd, Socat, gssdp_discover, iperf3_client)
from .suite import (HOST_UPLINK2_ADDR, HOST_UPLINK_ADDR, LAN2_ADDR, LAN_ADDR,
                    Lab)
from .helper import DirectHelper

__all__ = [
    "OWNER", "OWNER_ENV", "TAG_ENV", "issued_tags", "tagged_env", "REPO", "POLICY_FILE",
    "build_dir", "export_pythonpath", "import_protos", "NAME_CLIENT", "NAME_SERVER",
    "TAPRELAY", "Netns", "VmNetns", "as_uid", "cpu_seconds", "poll", "proc_status", "run",
    "ARC", "ARCVM",
    "BUS_INTERFACE", "BUS_NAME", "BUS_PATH", "DEVICE_ADDED", "DEVICE_REMOVED", "EXHAUSTED",
    "FAILED", "INVALID_ARGUMENT", "PLUGIN_VM", "RTPROT_PATCHPANEL", "RULE_PRIORITY",
    "STATUS_INTERFACE", "TERMINA_VM", "Bus", "Client", "DBusError", "SignalCollector",
    "device_key", "routing_table", "subnet_of", "wire_to_ip", "ArcContainer", "Lifeline",
    "datapath_state", "kernel_devices", "nft_elements", "snapshot", "snapshot_diff",
    "Topology", "AdbServer", "AvahiDaemon", "FakeAdbd", "GssdpResponder", "Iperf3Server",
    "Peer", "Radvd", "Socat",
    "gssdp_discover", "iperf3_client", "HOST_UPLINK2_ADDR", "HOST_UPLINK_ADDR", "LAN2_ADDR",
    "LAN_ADDR", "Lab", "tags", "DirectHelper",
]
