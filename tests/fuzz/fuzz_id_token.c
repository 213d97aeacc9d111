/* libFuzzer target: what a provider sends for the ID token (lis/web/lis_oidc_jwt.c). The
 * first byte chooses the test:
 *   even: the rest is an ID token, verified against a fixed JWKS (one RSA, one EC P-256 key)
 *         as of a fixed time; the seeds (corpus/id_token/tok_*) are tokens signed by those
 *         keys, valid at that time, and their spoiled forms (alg none, HS256, crit, ...).
 *         Verification must refuse it or fill a NUL-terminated, non-empty user_key;
 *   odd:  the rest is a JWKS document; a key set it yields must hold 1..LIS_OIDC_KEYS_MAX
 *         keys, and the seed token tok_rs256 is then verified against it (any outcome). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lis_oidc_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public halves of the keys that signed the seeds (their private halves were thrown
 * away once the seeds were made). */
static const char jwks[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"n\":\"tZvQT8ddcqrDj0eo7RcfjidNUkSm3bwEoTgaXYmI5eh2ipOvdBus"
	"hLDmiMRdS8bWGVwatoggHbqSXJ0CUVRM8wvMo-cK8PakmLdCrelQRflj0vIUnJdLwyni4ibxTVx8k5Um38TJxGNB"
	"AcxnouVhpxnoJQYfyrrJrdDdUmVf1-evp2NxfrNs2MeNg8N_u-d-w2XO3tCCDJCCEudfm3m1Cmnk5yKb3ozCf8Bu"
	"0WNMLm5aG5ORJk_iDnGqD5uATvezRlOGSsnK4CtjcYcuGKIGv_VnMd06kYiNnPgWH6j4SKKhAbL5A_nbV2PgPN9I"
	"lK9FvZ8yzyEDc4DIMWSOtF4Dtw\",\"e\":\"AQAB\",\"kid\":\"fz-rsa\",\"use\":\"sig\",\"alg\":"
	"\"RS256\"},{\"kty\":\"EC\",\"x\":\"yg9CvE82Dkhjv6ZRK8KBhdGr1iv_xo5pS29AsRAu0DA\",\"y\":"
	"\"0G9DcW4DXqZxvhkGZ7rxyoBHX4ydS1dCuz0A6QW7ihE\",\"crv\":\"P-256\",\"kid\":\"fz-ec\",\"us"
	"e\":\"sig\",\"alg\":\"ES256\"}]}";

/* corpus/id_token/tok_rs256 without its first byte. */
static const char token[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ6LXJzYSJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLm9"
	"yZyIsInN1YiI6ImFsaWNlIiwiYXVkIjoibGlzIiwiZXhwIjoxNzAwMDAwMzAwLCJpYXQiOjE3MDAwMDA"
	"wMDAsIm5vbmNlIjoiZnotbm9uY2UiLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUub3JnIiwibmFtZSI6IkF"
	"saWNlIiwiZW1haWxfdmVyaWZpZWQiOnRydWV9.YQG3y_eEXX1E2N9DX61reMRXByuJJjGVWsKzsEBXTC"
	"rwqzpUxjKH3HUsYMZxmKIIzUS6bfQTvvF6tcXpAiajssITNM5fEtyzjgZ3t_25C13z9G2VJq3LgZib-u"
	"9iQWQBtTZ5PYKbz69nSXPa6G3sPkF0GuEJ9LfmjnYaKGMrsUwPFnggH1avPrPqiTXZoWKmNyJsGpfGoc"
	"ofksyjXJvHTayWzCAd_YmJBH_9QSF0Rqhn47DP4Wu0lbLt9CwBs2UXPdpphOPU56_wCOxW5pmT0f2Siq"
	"qu0xqY4eUpFz2RbGQRmXLa-BAgDP5K398oQypCyjS7CtwT3ycW9Ztv0a7j0Q";

static const struct lis_oidc_expect expect = { .issuer = "https://idp.example.org",
	.client_id = "lis", .nonce = "fz-nonce", .user_claim = "email", .now = 1700000100 };

static struct lis_oidc_keys *fixed;

static void check_identity(int rc, const struct lis_oidc_identity *id)
{
	if (rc != 0)
		return;
	size_t n = strnlen(id->user_key, sizeof id->user_key);
	if (n == 0 || n == sizeof id->user_key || strnlen(id->name, sizeof id->name) ==
	    sizeof id->name || strnlen(id->email, sizeof id->email) == sizeof id->email)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lis_oidc_identity id;
	struct lis_oidc_keys *k;
	char err[256];
	int rc;

	if (!fixed && lis_oidc_keys_parse(jwks, strlen(jwks), &fixed, err, sizeof err) < 0)
		abort();
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		rc = lis_oidc_verify_id_token(fixed, (const char *)data + 1, size - 1, &expect,
					      &id, err, sizeof err);
		check_identity(rc, &id);
		return 0;
	}
	if (lis_oidc_keys_parse((const char *)data + 1, size - 1, &k, err, sizeof err) < 0)
		return 0;
	if (lis_oidc_keys_count(k) == 0 || lis_oidc_keys_count(k) > LIS_OIDC_KEYS_MAX)
		abort();
	rc = lis_oidc_verify_id_token(k, token, strlen(token), &expect, &id, err, sizeof err);
	check_identity(rc, &id);
	lis_oidc_keys_free(k);
	return 0;
}
