/* snmpsimd for the collector's tests (see snmpsim.h). */
#include "snmpsim.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static pid_t running[8];

static void kill_running(void)
{
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
		if (running[i] > 0) {
			kill(running[i], SIGKILL);
			waitpid(running[i], NULL, 0);
			running[i] = 0;
		}
}

static void on_signal(int sig)
{
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
		if (running[i] > 0)
			kill(running[i], SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void track(pid_t pid, bool add)
{
	static bool hooked;
	if (!hooked) {
		atexit(kill_running);
		int sigs[] = {SIGINT, SIGTERM, SIGABRT, SIGSEGV, SIGBUS};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			signal(sigs[i], on_signal);
		hooked = true;
	}
	for (size_t i = 0; i < sizeof running / sizeof running[0]; i++) {
		if (add && running[i] == 0) {
			running[i] = pid;
			return;
		}
		if (!add && running[i] == pid) {
			running[i] = 0;
			return;
		}
	}
}

int th_free_udp_port(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, addr, &sa.sin_addr);
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int copy_file(const char *from, const char *to)
{
	size_t n;
	char *text = th_read_file(from, &n);
	if (!text)
		return -1;
	int rc = th_write_file(to, text);
	free(text);
	return rc;
}

/* An SNMPv2c GET of sysName.0 with community "access-switch", BER by hand (RFC 3416), so
 * that readiness does not depend on the code under test. */
static bool answers(int port)
{
	static const unsigned char get[] = {
		0x30, 0x2d, 0x02, 0x01, 0x01, 0x04, 0x0d, 'a', 'c', 'c', 'e', 's', 's', '-', 's',
		'w', 'i', 't', 'c', 'h', 0xa0, 0x19, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01,
		0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x05,
		0x00, 0x05, 0x00,
	};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	bool ok = false;
	if (sendto(fd, get, sizeof get, 0, (struct sockaddr *)&sa, sizeof sa) == sizeof get) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		unsigned char buf[1500];
		ok = poll(&p, 1, 500) == 1 && recv(fd, buf, sizeof buf, 0) > 0;
	}
	close(fd);
	return ok;
}

/* Copy the *.snmprec files of the source tree's folder rel into data. */
static int copy_recordings(const char *rel, const char *data)
{
	DIR *d = opendir(th_src(rel));
	if (!d) {
		fprintf(stderr, "snmpsim: cannot open %s: %s\n", rel, strerror(errno));
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 9 || strcmp(e->d_name + n - 8, ".snmprec") != 0)
			continue;
		char from[600], to[600];
		snprintf(from, sizeof from, "%s/%s", th_src(rel), e->d_name);
		snprintf(to, sizeof to, "%s/%s", data, e->d_name);
		if (copy_file(from, to) != 0) {
			closedir(d);
			fprintf(stderr, "snmpsim: cannot copy %s\n", from);
			return -1;
		}
		chmod(to, 0644);
	}
	closedir(d);
	return 0;
}

int th_snmpsim_start(struct th_snmpsim *s)
{
	return th_snmpsim_start_with(s, NULL);
}

int th_snmpsim_start_with(struct th_snmpsim *s, const char *extra)
{
	memset(s, 0, sizeof *s);
	if (access("/usr/bin/snmpsimd", X_OK) != 0) {
		fprintf(stderr, "snmpsim: /usr/bin/snmpsimd not found (apt-get install snmpsim)\n");
		return -1;
	}
	char *dir = th_tmpdir("snmpsim");
	if (!dir)
		return -1;
	snprintf(s->dir, sizeof s->dir, "%s", dir);
	snprintf(s->log, sizeof s->log, "%s/snmpsimd.log", s->dir);
	chmod(s->dir, 0777);
	char data[300], cache[300];
	snprintf(data, sizeof data, "%s/data", s->dir);
	snprintf(cache, sizeof cache, "%s/cache", s->dir);
	mkdir(data, 0755);
	mkdir(cache, 0777);
	chmod(cache, 0777);
	if (copy_recordings("tests/data/snmp", data) < 0 ||
	    (extra && copy_recordings(extra, data) < 0))
		return -1;
	int fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd >= 0) {
		fchmod(fd, 0666);
		close(fd);
	}

	s->port = th_free_udp_port("127.0.0.1");
	if (s->port <= 0)
		return -1;
	char endpoint[64], datadir[320], cachedir[320], logm[340];
	snprintf(endpoint, sizeof endpoint, "--agent-udpv4-endpoint=127.0.0.1:%d", s->port);
	snprintf(datadir, sizeof datadir, "--data-dir=%s", data);
	snprintf(cachedir, sizeof cachedir, "--cache-dir=%s", cache);
	snprintf(logm, sizeof logm, "--logging-method=file:%s", s->log);
	const char *argv[16] = {
		"/usr/bin/snmpsimd", datadir, cachedir, endpoint, logm,
		"--v3-user=" TH_SNMPSIM_V3_USER, "--v3-auth-key=" TH_SNMPSIM_V3_AUTH,
		"--v3-auth-proto=SHA", "--v3-priv-key=" TH_SNMPSIM_V3_PRIV, "--v3-priv-proto=AES",
	};
	size_t argc = 10;
	if (geteuid() == 0) {
		argv[argc++] = "--process-user=nobody";
		argv[argc++] = "--process-group=nogroup";
	}
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			int lf = open(s->log, O_WRONLY | O_APPEND);
			dup2(lf >= 0 ? lf : null, 2);
		}
		if (chdir(s->dir) != 0)
			_exit(126);
		setenv("HOME", s->dir, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	s->pid = pid;
	track(pid, true);
	double t0 = th_now();
	while (th_now() - t0 < 30) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			track(pid, false);
			s->pid = 0;
			char *log = th_read_file(s->log, NULL);
			fprintf(stderr, "snmpsim: snmpsimd exited: %s\n", log ? th_flat(log) : "");
			free(log);
			return -1;
		}
		if (answers(s->port))
			return 0;
		th_sleep_ms(200);
	}
	fprintf(stderr, "snmpsim: snmpsimd did not answer on 127.0.0.1:%d within 30 s\n", s->port);
	th_snmpsim_stop(s);
	return -1;
}

int th_snmpsim_stop(struct th_snmpsim *s)
{
	if (s->pid <= 0)
		return 0;
	kill(s->pid, SIGTERM);
	int st = 0;
	for (int i = 0; i < 50; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			goto done;
		th_sleep_ms(100);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
done:
	track(s->pid, false);
	s->pid = 0;
	return 0;
}
