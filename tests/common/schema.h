/* Validation of HELD (RFC 5985) and PIDF-LO (RFC 4119/5491/5139) documents against the RFC
 * schemas vendored in tests/data/schemas (lis-validate.xsd imports them all), offline, plus
 * the RFC 5491 §5 rules for the GML shapes lisd writes, which the schemas let through a lax
 * wildcard. The schema is loaded once per process and shared; each call has a validation
 * context of its own, so any thread may call these. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

/* tests/data/schemas of the source tree (meson passes it), so tests run from any directory. */
const char *schema_dir(void);

/* 0 when body is a well-formed document valid against lis-validate.xsd whose shapes follow
 * RFC 5491 §5; -1 otherwise, with the first errors ("line N: message; ...") in err. */
int schema_validate(const char *body, size_t len, char *err, size_t errsize);

/* schema_validate() as a check: a refused body is a failed check at file:line, saying what
 * the body was (what) and why, followed by the body as diagnostic lines. Counted for the
 * summary printed at t_done(). */
bool schema_check_at(const char *body, size_t len, const char *what, const char *file, int line);
#define CHECK_SCHEMA(body, len, what) schema_check_at((body), (len), (what), __FILE__, __LINE__)

/* True for the media types whose bodies must pass: application/held+xml and
 * application/pidf+xml, parameters allowed. A text/plain refusal is not one. */
bool schema_media_type(const char *content_type);

#endif
