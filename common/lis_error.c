#include "lis_error.h"

#include <stdio.h>

int lis_error_set(struct lis_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return -1;
	err->code = code;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		err->msg[0] = '\0';
	return -1;
}
