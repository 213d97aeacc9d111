/* Longest-prefix match of an address against the subnet wiremap. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

#define COL_(c) ", l." #c

/* The inner query walks the SP-GiST index (inet_ops) for every prefix containing the
 * address, keeps the longest, and only then joins its location and site. */
static const struct db_stmt lookup_subnet = {
	DB_STMT_LOOKUP_SUBNET, "lis_lookup_subnet",
	"SELECT s.prefix::text, l.id, l.key, si.key, si.name, l.lang"
	DB_CIVIC_COLUMNS(COL_)
	", l.latitude, l.longitude, l.altitude, l.uncertainty"
	" FROM (SELECT prefix, location_id FROM subnet WHERE prefix >>= $1::inet"
	"       ORDER BY masklen(prefix) DESC LIMIT 1) s"
	" JOIN location l ON l.id = s.location_id"
	" JOIN site si ON si.id = l.site_id",
	1,
};

enum {
	F_PREFIX, F_ID, F_KEY, F_SITE_KEY, F_SITE_NAME, F_LANG, F_CIVIC,
	F_LAT = F_CIVIC + CIVIC_N_FIELDS, F_LON, F_ALT, F_UNC, F_N
};

void db_location_clear(struct db_location *loc)
{
	if (!loc)
		return;
	free(loc->key);
	free(loc->site_key);
	free(loc->site_name);
	for (int i = 0; i < CIVIC_N_FIELDS; i++)
		free(loc->civic_storage[i]);
	free(loc->lang);
	free(loc->matched);
	memset(loc, 0, sizeof(*loc));
}

/* NULL for SQL NULL, else a copy; *oom set when the copy fails. */
static char *dup_value(const PGresult *res, int col, bool *oom)
{
	char *s;

	if (PQgetisnull(res, 0, col))
		return NULL;
	s = strdup(PQgetvalue(res, 0, col));
	if (!s)
		*oom = true;
	return s;
}

static int fill_location(const PGresult *res, struct db_location *loc, struct lis_error *err)
{
	bool oom = false;

	memset(loc, 0, sizeof(*loc));
	loc->matched = dup_value(res, F_PREFIX, &oom);
	loc->id = strtoll(PQgetvalue(res, 0, F_ID), NULL, 10);
	loc->key = dup_value(res, F_KEY, &oom);
	loc->site_key = dup_value(res, F_SITE_KEY, &oom);
	loc->site_name = dup_value(res, F_SITE_NAME, &oom);
	loc->lang = dup_value(res, F_LANG, &oom);
	loc->civic.lang = loc->lang;
	for (int i = 0; i < CIVIC_N_FIELDS; i++) {
		loc->civic_storage[i] = dup_value(res, F_CIVIC + i, &oom);
		loc->civic.field[i] = loc->civic_storage[i];
	}
	if (!PQgetisnull(res, 0, F_LAT) && !PQgetisnull(res, 0, F_LON)) {
		loc->has_geo = true;
		loc->lat = strtod(PQgetvalue(res, 0, F_LAT), NULL);
		loc->lon = strtod(PQgetvalue(res, 0, F_LON), NULL);
	}
	if (!PQgetisnull(res, 0, F_ALT)) {
		loc->has_alt = true;
		loc->alt = strtod(PQgetvalue(res, 0, F_ALT), NULL);
	}
	if (!PQgetisnull(res, 0, F_UNC))
		loc->uncertainty = strtod(PQgetvalue(res, 0, F_UNC), NULL);
	if (oom) {
		db_location_clear(loc);
		return lis_error_set(err, DB_E_QUERY, "subnet lookup: out of memory");
	}
	return 0;
}

int db_lookup_subnet(struct db_conn *c, const char *ip, struct db_location *loc,
		     struct lis_error *err)
{
	unsigned char bin[16];
	char text[INET6_ADDRSTRLEN];
	PGresult *res;
	int rc;

	memset(loc, 0, sizeof(*loc));
	/* Refuse anything that is not a plain address before it reaches the server. */
	if (!ip)
		return lis_error_set(err, DB_E_INPUT, "subnet lookup: no address");
	if (inet_pton(AF_INET, ip, bin) == 1) {
		inet_ntop(AF_INET, bin, text, sizeof(text));
	} else if (inet_pton(AF_INET6, ip, bin) == 1) {
		/* ::ffff:a.b.c.d is an IPv4 client seen through an IPv6 socket. */
		if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)bin))
			inet_ntop(AF_INET, bin + 12, text, sizeof(text));
		else
			inet_ntop(AF_INET6, bin, text, sizeof(text));
	} else {
		return lis_error_set(err, DB_E_INPUT,
				     "subnet lookup: \"%.64s\" is not an IPv4 or IPv6 address", ip);
	}

	const char *const values[] = {text};
	res = db_exec_stmt(c, &lookup_subnet, "subnet lookup", values, PGRES_TUPLES_OK, err);
	if (!res)
		return -1;
	if (PQntuples(res) == 0) {
		rc = 0;
	} else if (PQnfields(res) != F_N) {
		rc = lis_error_set(err, DB_E_SCHEMA, "subnet lookup: unexpected result shape");
	} else {
		rc = fill_location(res, loc, err) < 0 ? -1 : 1;
	}
	PQclear(res);
	return rc;
}
