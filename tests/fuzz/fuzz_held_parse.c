/* libFuzzer target: held_parse_request() on arbitrary bytes. Besides not crashing, the
 * parser promises an answer fit to send: a known code and a short printable message. */
#include <libxml/parser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "held.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct held_request req;
	struct lis_error err = { 0 };
	/* small limits too, so that the size and depth checks get exercised */
	struct held_limits limits = { .max_bytes = size > 0 && data[0] == '<' ? 4096 : 0,
				      .max_depth = size > 1 && data[1] == '<' ? 4 : 0 };
	int rc = held_parse_request((const char *)data, size, &limits, &req, &err);
	if (rc == 0) {
		if (err.code != LIS_OK || req.n_ids > HELD_MAX_IDS || req.n_wifi > HELD_MAX_WIFI)
			abort();
		/* every identity is of a known kind, and its value is one its kind's parser keeps
		 * (IDENT_OTHER: the element's name) */
		for (size_t i = 0; i < req.n_ids; i++) {
			const struct ident *id = &req.ids[i];
			struct ident again;
			if (strnlen(id->value, IDENT_VALUE_MAX) == IDENT_VALUE_MAX ||
			    (unsigned)id->kind >= IDENT_N_KINDS)
				abort();
			if (id->kind != IDENT_OTHER &&
			    (ident_parse(id->kind, id->value, &again) < 0 ||
			     strcmp(again.value, id->value) != 0))
				abort();
		}
		/* every BSSID kept is in the one stored spelling: 00:11:22:33:44:55 */
		for (size_t i = 0; i < req.n_wifi; i++) {
			const char *b = req.wifi[i].bssid;
			if (strnlen(b, sizeof req.wifi[i].bssid) != 17)
				abort();
			for (int k = 0; k < 17; k++)
				if (k % 3 == 2 ? b[k] != ':' : !strchr("0123456789abcdef", b[k]))
					abort();
		}
		return 0;
	}
	if (rc != -1 || err.code != LIS_E_HELD || !held_error_code_name((enum held_error_code)err.held))
		abort();
	size_t n = strnlen(err.msg, sizeof err.msg);
	if (n == 0 || n == sizeof err.msg)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err.msg[i] < 0x20 || (unsigned char)err.msg[i] > 0x7e)
			abort();
	return 0;
}
