#!/usr/bin/env python3
"""Writes the snmpsim recordings of the sample's switches for `deploy/quickstart.sh switches`
(run it here after an edit; the .snmprec files are committed). The switches are those of
../switches.csv, each answering SNMPv2c community "public" on 127.0.0.1 at its snmp_port:

  chi-hq-sw1  Gi1/0/1 (lobby) lobby-phone 00:04:f2:11:22:33; Gi1/0/2 (room 101)
  chi-hq-sw2  Gi1/0/24 (NOC, room 210) the noc-phone 00:04:f2:11:22:44, which is at
              127.0.0.2 in the switch's ARP table (it is the floor's gateway)
  aus-br-sw1  ge-0/0/5, nothing learned

before/ is the sample as imported; after/ the same once the noc-phone has been carried down
to the lobby, chi-hq-sw1 Gi1/0/1 (a port with a location of its own: the resolver prefers a
port's location to a switch's, however fresh). Only the tables wiremapd reads: sysName, ifName, dot1dBasePortIfIndex,
dot1dTpFdbTable, ipNetToMediaTable."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
LOBBY_PHONE = "0004f2112233"
NOC_PHONE = "0004f2112244"


def snmprec(name, ports, fdb, arp):
    """ports: {ifIndex: ifName}; fdb: [(mac hex, ifIndex)]; arp: [(ip, mac hex)]"""
    r = [("1.3.6.1.2.1.1.5.0", 4, name)]
    for i, n in ports.items():
        r.append(("1.3.6.1.2.1.31.1.1.1.1.%d" % i, 4, n))
        r.append(("1.3.6.1.2.1.17.1.4.1.2.%d" % i, 2, i))  # bridge port i is ifIndex i
    for mac, i in fdb:
        idx = ".".join(str(int(mac[k:k + 2], 16)) for k in range(0, 12, 2))
        r.append(("1.3.6.1.2.1.17.4.3.1.1." + idx, "4x", mac))
        r.append(("1.3.6.1.2.1.17.4.3.1.2." + idx, 2, i))
        r.append(("1.3.6.1.2.1.17.4.3.1.3." + idx, 2, 3))  # learned
    for ip, mac in arp:  # on the routed VLAN interface, ifIndex 1000
        r.append(("1.3.6.1.2.1.4.22.1.2.1000." + ip, "4x", mac))
        r.append(("1.3.6.1.2.1.4.22.1.4.1000." + ip, 2, 3))  # dynamic
    r.sort(key=lambda x: [int(p) for p in x[0].split(".")])
    return "".join("%s|%s|%s\n" % x for x in r)


def write(state, noc_phone_on_sw1):
    sw1_fdb = [(LOBBY_PHONE, 1)] + ([(NOC_PHONE, 1)] if noc_phone_on_sw1 else [])
    sw2_fdb = [] if noc_phone_on_sw1 else [(NOC_PHONE, 24)]
    recs = {
        "chi-hq-sw1": snmprec("chi-hq-sw1", {1: "Gi1/0/1", 2: "Gi1/0/2"}, sw1_fdb, []),
        "chi-hq-sw2": snmprec("chi-hq-sw2", {1: "Gi1/0/1", 24: "Gi1/0/24"}, sw2_fdb,
                              [("127.0.0.2", NOC_PHONE)]),
        "aus-br-sw1": snmprec("aus-br-sw1", {505: "ge-0/0/5"}, [], []),
    }
    os.makedirs(os.path.join(HERE, state), exist_ok=True)
    for name, text in recs.items():
        with open(os.path.join(HERE, state, name + ".snmprec"), "w") as f:
            f.write(text)


write("before", False)
write("after", True)
