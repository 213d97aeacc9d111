#include "lis_error.h"

#include <stdio.h>

static void fill(struct lis_error *err, enum lis_errc code, int held, const char *fmt,
		 va_list ap)
{
	err->code = code;
	err->held = held;
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	if (n < 0)
		err->msg[0] = '\0';
}

int lis_error_set(struct lis_error *err, enum lis_errc code, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	fill(err, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int lis_error_held(struct lis_error *err, int held_code, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	fill(err, LIS_E_HELD, held_code, fmt, ap);
	va_end(ap);
	return -1;
}

int lis_error_exit_status(const struct lis_error *err)
{
	if (!err)
		return 1;
	return err->code == LIS_E_USAGE || err->code == DB_E_SCHEMA ? 2 : 1;
}

const char *lis_errc_name(enum lis_errc code)
{
	switch (code) {
	case LIS_OK: return "ok";
	case LIS_E_USAGE: return "usage";
	case LIS_E_SYSTEM: return "system";
	case LIS_E_INPUT: return "input";
	case LIS_E_HELD: return "held";
	case DB_E_CONNECT: return "db-connect";
	case DB_E_QUERY: return "db-query";
	case DB_E_SCHEMA: return "db-schema";
	case DB_E_INPUT: return "db-input";
	}
	return "unknown";
}
