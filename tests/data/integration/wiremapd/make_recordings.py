#!/usr/bin/env python3
"""Writes the two snmpsim recordings of the wiremapd end-to-end test (run it here after an
edit; the .snmprec files are committed). One 12-port access switch "sw-e2e" (chassis
00:1b:54:e2:e0:01, sysName sw-e2e) that is also the layer-3 gateway of the phones:

  Gi1/0/3   a PC, 00:50:b6:00:00:33 (127.0.0.51), no LLDP
  Gi1/0/5   the desk phone 00:50:b6:00:00:50 (127.0.0.50), LLDP + LLDP-MED   (before)
  Gi1/0/9   the same phone                                                (after)
  Gi1/0/12  uplink: 10 MACs behind it and an LLDP neighbour that is a bridge

wmd-e2e-a.snmprec is "before", wmd-e2e-b.snmprec "after" (community = file name)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PHONE = "0050b6000050"
PC = "0050b6000033"
UPLINK_MACS = ["00e0fc%06x" % (0x100 + i) for i in range(10)]


def mac_idx(h):
    return ".".join(str(int(h[i:i + 2], 16)) for i in range(0, 12, 2))


def recording(phone_port):
    r = []

    def add(oid, typ, val):
        r.append((oid, typ, val))

    add("1.3.6.1.2.1.1.1.0", 4, "e2e access switch, 12 ports")
    add("1.3.6.1.2.1.1.2.0", 6, "1.3.6.1.4.1.8072.3.2.10")
    add("1.3.6.1.2.1.1.3.0", 67, "123456")
    add("1.3.6.1.2.1.1.5.0", 4, "sw-e2e")
    ports = list(range(1, 13))
    # IF-MIB: ifDescr, ifName, ifAlias; ifIndex 100 is the routed VLAN interface
    for i in ports:
        add("1.3.6.1.2.1.2.2.1.1.%d" % i, 2, str(i))
        add("1.3.6.1.2.1.2.2.1.2.%d" % i, 4, "GigabitEthernet1/0/%d" % i)
        add("1.3.6.1.2.1.31.1.1.1.1.%d" % i, 4, "Gi1/0/%d" % i)
        add("1.3.6.1.2.1.31.1.1.1.18.%d" % i, 4, "uplink" if i == 12 else "desk %d" % i)
    add("1.3.6.1.2.1.2.2.1.1.100", 2, "100")
    add("1.3.6.1.2.1.2.2.1.2.100", 4, "Vlan1")
    add("1.3.6.1.2.1.31.1.1.1.1.100", 4, "Vl1")
    add("1.3.6.1.2.1.31.1.1.1.18.100", 4, "")
    # BRIDGE-MIB: bridge port n is ifIndex n
    for i in ports:
        add("1.3.6.1.2.1.17.1.4.1.2.%d" % i, 2, str(i))
    fdb = [(PC, 3), (PHONE, phone_port)] + [(m, 12) for m in UPLINK_MACS]
    for mac, port in fdb:
        add("1.3.6.1.2.1.17.4.3.1.1.%s" % mac_idx(mac), "4x", mac)
        add("1.3.6.1.2.1.17.4.3.1.2.%s" % mac_idx(mac), 2, str(port))
        add("1.3.6.1.2.1.17.4.3.1.3.%s" % mac_idx(mac), 2, "3")
        # Q-BRIDGE-MIB dot1qTpFdbTable, fdb id 1
        add("1.3.6.1.2.1.17.7.1.2.2.1.2.1.%s" % mac_idx(mac), 2, str(port))
        add("1.3.6.1.2.1.17.7.1.2.2.1.3.1.%s" % mac_idx(mac), 2, "3")
    # IP-MIB: ipNetToPhysicalTable (ifIndex.ipv4(1).len(4).addr) and ipNetToMediaTable
    for ip, mac in (("127.0.0.50", PHONE), ("127.0.0.51", PC)):
        idx = "100.1.4.%s" % ip
        add("1.3.6.1.2.1.4.35.1.4.%s" % idx, "4x", mac)
        add("1.3.6.1.2.1.4.35.1.6.%s" % idx, 2, "3")
        add("1.3.6.1.2.1.4.35.1.7.%s" % idx, 2, "1")
        add("1.3.6.1.2.1.4.22.1.1.100.%s" % ip, 2, "100")
        add("1.3.6.1.2.1.4.22.1.2.100.%s" % ip, "4x", mac)
        add("1.3.6.1.2.1.4.22.1.3.100.%s" % ip, 64, ip)
        add("1.3.6.1.2.1.4.22.1.4.100.%s" % ip, 2, "3")
    # LLDP-MIB local system and ports (port id subtype 5 = interfaceName)
    lldp = "1.0.8802.1.1.2.1"
    add(lldp + ".3.1.0", 2, "4")
    add(lldp + ".3.2.0", "4x", "001b54e2e001")
    add(lldp + ".3.3.0", 4, "sw-e2e")
    for i in ports:
        add(lldp + ".3.7.1.2.%d" % i, 2, "5")
        add(lldp + ".3.7.1.3.%d" % i, 4, "Gi1/0/%d" % i)
        add(lldp + ".3.7.1.4.%d" % i, 4, "GigabitEthernet1/0/%d" % i)
    # lldpRemTable, index timeMark.localPortNum.remIndex
    rem = [
        # port, chassis subtype, chassis id, port subtype, port id, sysName, caps (BITS)
        (phone_port, 4, ("4x", PHONE), 3, ("4x", PHONE), "SEP0050B6000050", "04"),
        (12, 4, ("4x", "00e0fc000001"), 5, (4, "Gi0/1"), "core-1", "28"),
    ]
    for port, cst, cid, pst, pid, name, caps in rem:
        idx = "0.%d.1" % port
        add(lldp + ".4.1.1.4.%s" % idx, 2, str(cst))
        add(lldp + ".4.1.1.5.%s" % idx, cid[0], cid[1])
        add(lldp + ".4.1.1.6.%s" % idx, 2, str(pst))
        add(lldp + ".4.1.1.7.%s" % idx, pid[0], pid[1])
        add(lldp + ".4.1.1.8.%s" % idx, 4, "port")
        add(lldp + ".4.1.1.9.%s" % idx, 4, name)
        add(lldp + ".4.1.1.10.%s" % idx, 4, name + " system")
        add(lldp + ".4.1.1.11.%s" % idx, "4x", caps)
        add(lldp + ".4.1.1.12.%s" % idx, "4x", caps)
    # LLDP-EXT-MED-MIB lldpXMedRemInventoryTable of the phone
    inv = ["1.0", "2.1", "9.4.1", "PHN-0050", "ExampleTel", "DeskPhone 7", ""]
    for col, val in enumerate(inv, 1):
        add(lldp + ".5.4795.1.3.3.1.%d.0.%d.1" % (col, phone_port), 4, val)
    r.sort(key=lambda x: [int(p) for p in x[0].split(".")])
    return "".join("%s|%s|%s\n" % x for x in r)


for name, port in (("wmd-e2e-a", 5), ("wmd-e2e-b", 9)):
    with open(os.path.join(HERE, name + ".snmprec"), "w") as f:
        f.write(recording(port))
