#!/usr/bin/env python3
"""The recordings of bench/collector.sh's simulated switches, from one template.

  collector_rec.py template OUT            write the template recording (snmprec)
  collector_rec.py expand TEMPLATE DIR N PROCS
                                           write N recordings for snmpsimd: switch i in
                                           DIR/sim<i % PROCS>/public/ as
                                           1.3.6.1.6.1.1.<i // PROCS>.snmprec

The template is an snmprec recording in which {EXPR} or {EXPR:SPEC} stands for an integer
computed from the switch index i (0-based), printed as format(value, SPEC) would: the syntax
bench/snmp_agent_sim expands per agent as it answers. `expand` does the same in Python, so
snmpsimd and snmp_agent_sim replay the same recordings and collector.sh can compare them.

One switch: 48 access ports (one host each: a learned MAC in BRIDGE-MIB and Q-BRIDGE-MIB, its
IP in ipNetToPhysicalTable, every other one an LLDP-MED phone with inventory) and port 49, an
uplink with 20 MACs behind it and a bridge LLDP neighbour. MACs and IPs are unique across
switches; switch i's chassis ID is 02:fe:HH:LL:00:00 (HHLL = i in hexadecimal)."""
import os
import re
import sys

LLDP = "1.0.8802.1.1.2.1"
HI, LO = "{i>>8}", "{i&255}"


def mac_hex(first2, last2, upper=False):
    """A MAC as hex text: first2 (e.g. "0200"), then i's two bytes, then last2."""
    x = "X" if upper else "x"
    return "%s{i>>8:02%s}{i&255:02%s}%s" % (first2, x, x, last2)


def template():
    r = []

    def add(o, t, v):
        r.append((o, t, v))

    name = "sw{i+1:04d}"
    add("1.3.6.1.2.1.1.1.0", 4, "bench access switch 48+1 ports")
    add("1.3.6.1.2.1.1.3.0", 67, "100")
    add("1.3.6.1.2.1.1.5.0", 4, name)
    for p in range(1, 50):
        add("1.3.6.1.2.1.2.2.1.2.%d" % p, 4, "GigabitEthernet1/0/%d" % p)
        add("1.3.6.1.2.1.31.1.1.1.1.%d" % p, 4, "Gi1/0/%d" % p)
        add("1.3.6.1.2.1.31.1.1.1.18.%d" % p, 4, "uplink" if p == 49 else "desk %d" % p)
        add("1.3.6.1.2.1.17.1.4.1.2.%d" % p, 2, str(p))
        add(LLDP + ".3.7.1.2.%d" % p, 2, "5")
        add(LLDP + ".3.7.1.3.%d" % p, 4, "Gi1/0/%d" % p)
        add(LLDP + ".3.7.1.4.%d" % p, 4, "GigabitEthernet1/0/%d" % p)
    add(LLDP + ".3.1.0", 2, "4")
    add(LLDP + ".3.2.0", "4x", mac_hex("02fe", "0000"))
    add(LLDP + ".3.3.0", 4, name)
    # (MAC as an OID index, as hex, as upper-case hex, bridge port)
    fdb = [("2.0.%s.%s.0.%d" % (HI, LO, p), mac_hex("0200", "00%02x" % p),
            mac_hex("0200", "00%02X" % p, True), p) for p in range(1, 49)]
    fdb += [("2.238.%s.%s.1.%d" % (HI, LO, k), mac_hex("02ee", "01%02x" % k), None, 49)
            for k in range(20)]
    for idx, mac, _, port in fdb:
        add("1.3.6.1.2.1.17.4.3.1.1.%s" % idx, "4x", mac)
        add("1.3.6.1.2.1.17.4.3.1.2.%s" % idx, 2, str(port))
        add("1.3.6.1.2.1.17.4.3.1.3.%s" % idx, 2, "3")
        add("1.3.6.1.2.1.17.7.1.2.2.1.2.1.%s" % idx, 2, str(port))
        add("1.3.6.1.2.1.17.7.1.2.2.1.3.1.%s" % idx, 2, "3")
    for _, mac, _, port in fdb[:48]:
        a = "(i*64+%d)" % port   # 198.18.0.0/15 (benchmarking range): data only, never a target
        ip = "198.{18+(%s>>16)}.{%s>>8&255}.{%s&255}" % (a, a, a)
        idx = "100.1.4.%s" % ip
        add("1.3.6.1.2.1.4.35.1.4.%s" % idx, "4x", mac)
        add("1.3.6.1.2.1.4.35.1.6.%s" % idx, 2, "3")
        add("1.3.6.1.2.1.4.35.1.7.%s" % idx, 2, "1")
    rem = [(p, fdb[p - 1][1], "SEP" + fdb[p - 1][2], "04") for p in range(1, 49, 2)]
    rem.append((49, "02feff0000{i&255:02x}", "core-{i%4}", "28"))
    for port, mac, sysname, caps in rem:
        idx = "0.%d.1" % port
        add(LLDP + ".4.1.1.4.%s" % idx, 2, "4")
        add(LLDP + ".4.1.1.5.%s" % idx, "4x", mac)
        add(LLDP + ".4.1.1.6.%s" % idx, 2, "3")
        add(LLDP + ".4.1.1.7.%s" % idx, "4x", mac)
        add(LLDP + ".4.1.1.9.%s" % idx, 4, sysname)
        add(LLDP + ".4.1.1.11.%s" % idx, "4x", caps)
        add(LLDP + ".4.1.1.12.%s" % idx, "4x", caps)
        if port != 49:
            for col, v in enumerate(["1", "2", "3", "S" + mac, "ExampleTel", "DeskPhone 7",
                                     ""], 1):
                add(LLDP + ".5.4795.1.3.3.1.%d.%s" % (col, idx), 4, v)
    return ["%s|%s|%s\n" % x for x in r]


PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}:]*)(?::([^{}]*))?\}")


def expand(text, i):
    def one(m):
        if m[0] in ("{{", "}}"):
            return m[0][0]
        return format(eval(m[1], {"__builtins__": {}}, {"i": i}), m[2] or "d")
    return PLACEHOLDER.sub(one, text)


def oid_key(line):
    return [int(x) for x in line.split("|", 1)[0].split(".")]


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "template":
        lines = template()
        lines.sort(key=lambda ln: oid_key(expand(ln, 0)))
        with open(sys.argv[2], "w") as f:
            f.write("".join(lines))
    elif len(sys.argv) == 6 and sys.argv[1] == "expand":
        with open(sys.argv[2]) as f:
            lines = f.readlines()
        d, n, procs = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        for i in range(n):
            out = sorted((expand(ln, i) for ln in lines), key=oid_key)
            sub = os.path.join(d, "sim%d" % (i % procs), "public")
            os.makedirs(sub, exist_ok=True)
            with open(os.path.join(sub, "1.3.6.1.6.1.1.%d.snmprec" % (i // procs)), "w") as f:
                f.write("".join(out))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
