#!/usr/bin/env python3
# The shipped samples never reach beyond the machine (TAP): every switch of
# deploy/sample/switches.csv is managed at a loopback address (wiremapd polls exactly these),
# and no active key of the example configurations (deploy/*.conf.example) names a host that
# is not this one: addresses are loopback, conninfo connects through a Unix socket or to
# loopback, URLs point at localhost. Commented-out lines are the operator's to write.
#
# Usage: test_deploy_loopback.py SOURCE_ROOT (meson passes it).
import csv
import glob
import ipaddress
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
n = 0
failed = 0


def check(ok, name, why=()):
    global n, failed
    n += 1
    print('%s %d - %s' % ('ok' if ok else 'not ok', n, name))
    if not ok:
        failed += 1
        for w in why:
            print('# ' + w)


def is_local_host(h):
    """A host name or address that is this machine, or a Unix socket directory."""
    h = h.strip().strip('[]')
    if h == '' or h.startswith('/') or h.startswith('@') or h == 'localhost':
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def addresses_in(text):
    """Every IPv4 or IPv6 literal in text."""
    found = []
    for tok in re.findall(r'[0-9A-Fa-f:.]+', text):
        tok = tok.strip('.:') if tok.count(':') < 2 else tok
        try:
            found.append(ipaddress.ip_address(tok))
        except ValueError:
            pass
    return found


def conninfo_hosts(v):
    """host and hostaddr of a libpq key=value connection string or postgresql:// URI."""
    m = re.match(r'postgres(?:ql)?://(?:[^@/]*@)?([^/?]*)', v)
    if m:
        return [h.rsplit(':', 1)[0] if h.count(':') == 1 else h
                for h in m.group(1).split(',') if h]
    hosts = []
    for k, val in re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)", v):
        if k in ('host', 'hostaddr'):
            hosts += val.strip("'").split(',')
    return hosts


def test_sample_switches_are_managed_on_loopback():
    path = os.path.join(root, 'deploy', 'sample', 'switches.csv')
    bad = []
    rows = 0
    with open(path, newline='', encoding='utf-8') as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            rows += 1
            a = (row.get('mgmt_address') or '').strip()
            if a and not is_local_host(a):
                bad.append('switches.csv:%d: switch %s is managed at %s, not on loopback'
                           % (i, row.get('switch'), a))
    check(rows > 0 and not bad, 'sample_switches_are_managed_on_loopback', bad or
          (['switches.csv has no rows'] if rows == 0 else []))


def test_sample_switches_have_distinct_loopback_ports():
    # One simulated agent per switch on the same address: the ports must differ.
    path = os.path.join(root, 'deploy', 'sample', 'switches.csv')
    seen = {}
    bad = []
    with open(path, newline='', encoding='utf-8') as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            key = ((row.get('mgmt_address') or '').strip(), (row.get('snmp_port') or '161').strip())
            if key[0] and key in seen:
                bad.append('switches.csv:%d: %s:%s is also switch %s' % (i, key[0], key[1], seen[key]))
            seen[key] = row.get('switch')
    check(not bad, 'sample_switches_have_distinct_loopback_ports', bad)


def test_example_config_names_no_remote_host(path):
    bad = []
    with open(path, encoding='utf-8') as f:
        for i, line in enumerate(f, start=1):
            s = line.strip()
            if not s or s.startswith(';') or s.startswith('#') or s.startswith('['):
                continue
            if '=' not in s:
                continue
            key, val = (x.strip() for x in s.split('=', 1))
            val = re.split(r'\s;', val, 1)[0].strip()
            where = '%s:%d: %s' % (os.path.basename(path), i, key)
            if key in ('conninfo', 'read_conninfo'):
                for h in conninfo_hosts(val):
                    if not is_local_host(h):
                        bad.append('%s connects to %s' % (where, h))
            for a in addresses_in(val):
                if not a.is_loopback:
                    bad.append('%s names %s' % (where, a))
            for h in re.findall(r'\w+://(\[[^\]]*\]|[^/:\s]*)', val):
                if not is_local_host(h):
                    bad.append('%s points at %s' % (where, h))
    check(not bad, 'example_config_names_no_remote_host %s' % os.path.basename(path), bad)


test_sample_switches_are_managed_on_loopback()
test_sample_switches_have_distinct_loopback_ports()
confs = sorted(glob.glob(os.path.join(root, 'deploy', '*.conf.example')))
check(len(confs) >= 2, 'example_configs_found', ['deploy/*.conf.example: %d files' % len(confs)])
topo = sorted(glob.glob(os.path.join(root, 'deploy', 'topology', '*.conf')))
check(len(topo) >= 2, 'topology_configs_found', ['deploy/topology/*.conf: %d files' % len(topo)])
for c in confs + topo:
    test_example_config_names_no_remote_host(c)


def test_balancer_config_stays_on_loopback():
    # deploy/topology/haproxy.cfg: what it binds and the servers it relays to
    path = os.path.join(root, 'deploy', 'topology', 'haproxy.cfg')
    bad = []
    lines = 0
    with open(path, encoding='utf-8') as f:
        for i, line in enumerate(f, start=1):
            s = line.split('#', 1)[0].split()
            if len(s) >= 2 and s[0] == 'bind' or len(s) >= 3 and s[0] == 'server':
                lines += 1
                host = (s[1] if s[0] == 'bind' else s[2]).rsplit(':', 1)[0]
                if not is_local_host(host):
                    bad.append('haproxy.cfg:%d: %s %s' % (i, s[0], host))
    check(lines >= 3 and not bad, 'balancer_config_stays_on_loopback',
          bad or ['haproxy.cfg: %d bind/server lines' % lines])


test_balancer_config_stays_on_loopback()
print('1..%d' % n)
sys.exit(1 if failed else 0)
