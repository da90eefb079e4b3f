#!/usr/bin/python3
"""A UPnP root device announced through libgssdp (NOTIFY alive/byebye, answers to
M-SEARCH), for the capture run. ssdp_responder.py IFNAME SECONDS"""
import sys

import gi

gi.require_version("GSSDP", "1.6")
from gi.repository import GLib, GSSDP  # noqa: E402


def main():
    ifname, seconds = sys.argv[1], int(sys.argv[2])
    client = GSSDP.Client.new_full(ifname, None, 0, GSSDP.UDAVersion.VERSION_1_0)
    group = GSSDP.ResourceGroup.new(client)
    location = "http://192.0.2.10:49152/desc.xml"
    usn = "uuid:2fac1234-31f8-11b4-a222-08002b34c003"
    group.add_resource_simple("upnp:rootdevice", usn + "::upnp:rootdevice", location)
    group.add_resource_simple("urn:schemas-upnp-org:device:tbtest:1",
                              usn + "::urn:schemas-upnp-org:device:tbtest:1", location)
    group.set_available(True)
    loop = GLib.MainLoop()
    GLib.timeout_add_seconds(seconds, loop.quit)
    print("ready", flush=True)
    loop.run()
    group.set_available(False)
    ctx = loop.get_context()
    for _ in range(50):
        ctx.iteration(False)


if __name__ == "__main__":
    main()
