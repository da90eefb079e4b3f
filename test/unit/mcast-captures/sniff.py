#!/usr/bin/python3
"""Record what an AF_PACKET SOCK_DGRAM socket bound to one interface sees, as mcastd's
broadcast side will: one JSON line per packet with the packet type (PACKET_HOST,
PACKET_BROADCAST, PACKET_OUTGOING, ...), the EtherType, the PACKET_AUXDATA tp_status (TP_STATUS_CSUMNOTREADY
marks a checksum the sender left to the NIC) and the network-layer packet in hex.

Run inside the network namespace: sniff.py IFNAME SECONDS OUTFILE
"""
import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8


def main():
    ifname, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, ETH_P_ALL))
    s.settimeout(0.2)
    deadline = time.monotonic() + seconds
    with open(out, "w") as f:
        print("ready", flush=True)
        while time.monotonic() < deadline:
            try:
                data, anc, _flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
            except socket.timeout:
                continue
            status = 0
            for level, typ, cdata in anc:
                if level == SOL_PACKET and typ == PACKET_AUXDATA:
                    status = struct.unpack_from("I", cdata)[0]
            f.write(json.dumps({"proto": addr[1], "pkttype": addr[2], "tp_status": status,
                                "hex": data.hex()}) + "\n")
            f.flush()


if __name__ == "__main__":
    main()
