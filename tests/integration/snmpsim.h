/* snmpsimd (Debian's snmpsim) serving the tests/data/snmp recordings on 127.0.0.1:free-port.
 * The community (v2c) or the SNMPv3 context name is the recording's file name without
 * .snmprec ("access-switch"). One SNMPv3 user is configured (authPriv, SHA + AES-128).
 * The responder is killed at exit, on a fatal signal, and when the test dies (PDEATHSIG). */
#ifndef TH_SNMPSIM_H
#define TH_SNMPSIM_H

#include <sys/types.h>

#define TH_SNMPSIM_V3_USER "lis-v3"
#define TH_SNMPSIM_V3_AUTH "lis-auth-secret-1"
#define TH_SNMPSIM_V3_PRIV "lis-priv-secret-2"

struct th_snmpsim {
	char dir[256];        /* a copy of tests/data/snmp, the cache and the log */
	char log[300];
	int port;             /* UDP port on 127.0.0.1 */
	pid_t pid;
};

/* Start snmpsimd (as nobody:nogroup when root) and wait until it answers (30 s at most).
 * 0, or -1 with the reason on stderr (e.g. snmpsimd not installed). */
int th_snmpsim_start(struct th_snmpsim *s);
/* The same, serving also the recordings of the source tree's folder extra (e.g.
 * "tests/data/integration/wiremapd"). */
int th_snmpsim_start_with(struct th_snmpsim *s, const char *extra);
/* SIGTERM and wait; 0 on success. */
int th_snmpsim_stop(struct th_snmpsim *s);
/* A UDP port on addr where nothing listens (bound then released). */
int th_free_udp_port(const char *addr);

#endif
