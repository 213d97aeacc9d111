/* The validator the integration tests put every HELD and PIDF-LO body through
 * (tests/common/schema.c) can fail: it accepts every sample of tests/data/schemas/examples,
 * refuses every sample of examples/invalid (the folders are read, so a new sample is tested
 * without a change here), and refuses shapes that break RFC 5491 §5. */
#include "check.h"
#include "schema.h"

#include <dirent.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Validate every *.xml of schema_dir()/sub, sorted; want_valid says which result each must
 * have. Returns how many files there were. */
static int each_example(const char *sub, bool want_valid)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/%s", schema_dir(), sub);
	DIR *d = opendir(dir);
	if (!CHECKF(d != NULL, "cannot open %s", dir))
		return 0;
	char *names[64];
	int n = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL && n < 64;) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".xml") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof names[0], by_name);
	for (int i = 0; i < n; i++) {
		char path[1400], err[1024];
		size_t len = 0;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		char *body = t_read_file(path, &len);
		if (CHECKF(body != NULL, "cannot read %s", path)) {
			int rc = schema_validate(body, len, err, sizeof err);
			if (want_valid)
				CHECKF(rc == 0, "%s/%s refused: %s", sub, names[i], err);
			else if (CHECKF(rc == -1, "%s/%s accepted", sub, names[i]))
				/* a refusal says why, with a line, for the CHECK that shows it */
				CHECKF(strncmp(err, "line ", 5) == 0, "%s/%s: reason \"%s\"", sub,
				       names[i], err);
			t_diag("%s/%s: %s", sub, names[i], rc == 0 ? "valid" : err);
		}
		free(body);
		free(names[i]);
	}
	return n;
}

static void test_every_valid_example_is_accepted(void)
{
	CHECK(each_example("examples", true) >= 1);
}

static void test_every_invalid_example_is_refused(void)
{
	CHECK(each_example("examples/invalid", false) >= 1);
}

/* ---- documents that are no HELD or PIDF-LO at all ---- */

static int validate(const char *doc, char *err, size_t size)
{
	return schema_validate(doc, strlen(doc), err, size);
}

static void test_not_well_formed_and_unknown_roots_are_refused(void)
{
	char err[512];
	CHECK(validate("<error xmlns=\"urn:ietf:params:xml:ns:geopriv:held\" code=\"x\">",
		       err, sizeof err) == -1);
	CHECKF(strstr(err, "not well-formed") != NULL, "%s", err);
	CHECK(validate("", err, sizeof err) == -1);
	CHECK(validate("not found\n", err, sizeof err) == -1);
	CHECK(validate("<foo xmlns=\"urn:example:foo\"/>", err, sizeof err) == -1);
	CHECKF(strstr(err, "No matching global declaration") != NULL, "%s", err);
	/* a HELD error without its required code attribute */
	CHECK(validate("<error xmlns=\"urn:ietf:params:xml:ns:geopriv:held\"/>", err,
		       sizeof err) == -1);
	/* a small buffer still ends in a NUL */
	char tiny[8];
	CHECK(validate("<foo/>", tiny, sizeof tiny) == -1);
	CHECK(strlen(tiny) < sizeof tiny);
}

static void test_media_types(void)
{
	CHECK(schema_media_type("application/held+xml"));
	CHECK(schema_media_type("Application/HELD+xml; charset=utf-8"));
	CHECK(schema_media_type("application/pidf+xml"));
	CHECK(!schema_media_type("text/plain; charset=utf-8"));
	CHECK(!schema_media_type("application/held+xmlx"));
	CHECK(!schema_media_type(""));
	CHECK(!schema_media_type(NULL));
}

/* ---- RFC 5491 §5 shapes: a PIDF-LO around one shape ---- */

static const char *pidf(const char *shape)
{
	static char buf[4096];
	snprintf(buf, sizeof buf,
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\n"
		 " xmlns:gp=\"urn:ietf:params:xml:ns:pidf:geopriv10\"\n"
		 " xmlns:gml=\"http://www.opengis.net/gml\"\n"
		 " xmlns:gs=\"http://www.opengis.net/pidflo/1.0\" entity=\"pres:x@example.com\">\n"
		 "<tuple id=\"t1\"><status><gp:geopriv><gp:location-info>\n"
		 "%s\n"
		 "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple>\n"
		 "</presence>\n", shape);
	return buf;
}

#define SRS2 "srsName=\"urn:ogc:def:crs:EPSG::4326\""
#define SRS3 "srsName=\"urn:ogc:def:crs:EPSG::4979\""
#define UOM_M "uom=\"urn:ogc:def:uom:EPSG::9001\""

static void test_shapes_lisd_writes_are_accepted(void)
{
	static const char *const ok[] = {
		"<gml:Point " SRS2 "><gml:pos>-34.407 150.883</gml:pos></gml:Point>",
		"<gml:Point " SRS3 "><gml:pos>-34.407 150.883 24.8</gml:pos></gml:Point>",
		"<gml:Point " SRS2 "><gml:pos>90 -180</gml:pos></gml:Point>",
		"<gml:Point " SRS2 "><gml:pos>+4.0E1 -7.39935e1</gml:pos></gml:Point>",
		"<gs:Circle " SRS2 "><gml:pos>42.5463 -73.2512</gml:pos>\n"
		"<gs:radius " UOM_M ">\n  850.24\n</gs:radius></gs:Circle>",
		"<gs:Sphere " SRS3 "><gml:pos>42.5463 -73.2512 26.3</gml:pos>"
		"<gs:radius " UOM_M ">850.24</gs:radius></gs:Sphere>",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char err[1024];
		CHECKF(validate(pidf(ok[i]), err, sizeof err) == 0, "%s: %s", ok[i], err);
	}
}

static void test_shapes_against_rfc5491_are_refused(void)
{
	static const struct {
		const char *shape, *why;
	} bad[] = {
		{"<gml:Point><gml:pos>40.75 -73.99</gml:pos></gml:Point>", "without srsName"},
		{"<gml:Point srsName=\"EPSG:4326\"><gml:pos>40.75 -73.99</gml:pos></gml:Point>",
		 "is neither"},
		{"<gml:Point " SRS2 "><gml:pos>-173.99 40.75</gml:pos></gml:Point>", "latitude"},
		{"<gml:Point " SRS2 "><gml:pos>40.75 -181</gml:pos></gml:Point>", "longitude"},
		{"<gml:Point " SRS2 "><gml:pos>40.75 -73.99 10</gml:pos></gml:Point>", "3 numbers"},
		{"<gml:Point " SRS3 "><gml:pos>40.75 -73.99</gml:pos></gml:Point>", "2 numbers"},
		{"<gml:Point " SRS2 "><gml:pos>40,75 -73,99</gml:pos></gml:Point>", "xs:double"},
		{"<gml:Point " SRS2 "><gml:pos>NaN 0</gml:pos></gml:Point>", "xs:double"},
		{"<gml:Point " SRS2 "><gml:pos " SRS2 ">40.75 -73.99</gml:pos></gml:Point>",
		 "srsName again"},
		{"<gml:Point " SRS2 " srsDimension=\"2\"><gml:pos>40.75 -73.99</gml:pos>"
		 "</gml:Point>", "srsDimension"},
		{"<gml:Point " SRS2 "><gml:coordinates>40.75,-73.99</gml:coordinates></gml:Point>",
		 "one gml:pos"},
		{"<gs:Circle " SRS3 "><gml:pos>40.75 -73.99 10</gml:pos>"
		 "<gs:radius " UOM_M ">25</gs:radius></gs:Circle>", "2D"},
		{"<gs:Circle " SRS2 "><gml:pos>40.75 -73.99</gml:pos>"
		 "<gs:radius>25</gs:radius></gs:Circle>", "uom"},
		{"<gs:Circle " SRS2 "><gml:pos>40.75 -73.99</gml:pos>"
		 "<gs:radius uom=\"urn:ogc:def:uom:EPSG::9002\">25</gs:radius></gs:Circle>", "uom"},
		{"<gs:Circle " SRS2 "><gml:pos>40.75 -73.99</gml:pos>"
		 "<gs:radius " UOM_M ">0</gs:radius></gs:Circle>", "positive"},
		{"<gs:Circle " SRS2 "><gml:pos>40.75 -73.99</gml:pos>"
		 "<gs:radius " UOM_M ">-5</gs:radius></gs:Circle>", "positive"},
		{"<gs:Circle " SRS2 "><gml:pos>40.75 -73.99</gml:pos></gs:Circle>",
		 "gml:pos then gs:radius"},
		{"<gs:Sphere " SRS2 "><gml:pos>40.75 -73.99</gml:pos>"
		 "<gs:radius " UOM_M ">25</gs:radius></gs:Sphere>", "3D"},
		{"<gs:Ellipse " SRS2 "><gml:pos>42.5463 -73.2512</gml:pos></gs:Ellipse>",
		 "not a shape lisd writes"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char err[1024];
		if (CHECKF(validate(pidf(bad[i].shape), err, sizeof err) == -1, "accepted: %s",
			   bad[i].shape))
			CHECKF(strstr(err, bad[i].why) != NULL, "%s: reason \"%s\", want \"%s\"",
			       bad[i].shape, err, bad[i].why);
	}
}

/* ---- one schema, any thread ---- */

#define N_THREADS 4

static void *validate_examples(void *arg)
{
	(void)arg;
	static const char *const files[] = {"examples/response-civic.xml",
		"examples/invalid/civic-order.xml"};
	long wrong = 0;
	for (int round = 0; round < 25; round++)
		for (int i = 0; i < 2; i++) {
			char path[1024], err[512];
			size_t len = 0;
			snprintf(path, sizeof path, "%s/%s", schema_dir(), files[i]);
			char *body = t_read_file(path, &len);
			int rc = body ? schema_validate(body, len, err, sizeof err) : 1;
			wrong += rc != (i == 0 ? 0 : -1);
			free(body);
		}
	return (void *)(intptr_t)wrong;
}

static void test_threads_share_the_schema(void)
{
	pthread_t th[N_THREADS];
	int started = 0;
	for (int i = 0; i < N_THREADS; i++)
		started += pthread_create(&th[i], NULL, validate_examples, NULL) == 0;
	CHECK(started == N_THREADS);
	for (int i = 0; i < started; i++) {
		void *wrong = NULL;
		pthread_join(th[i], &wrong);
		CHECKF(wrong == NULL, "thread %d: %ld wrong results", i, (long)(intptr_t)wrong);
	}
}

int main(void)
{
	t_run("every_valid_example_is_accepted", test_every_valid_example_is_accepted);
	t_run("every_invalid_example_is_refused", test_every_invalid_example_is_refused);
	t_run("not_well_formed_and_unknown_roots_are_refused",
	      test_not_well_formed_and_unknown_roots_are_refused);
	t_run("media_types", test_media_types);
	t_run("shapes_lisd_writes_are_accepted", test_shapes_lisd_writes_are_accepted);
	t_run("shapes_against_rfc5491_are_refused", test_shapes_against_rfc5491_are_refused);
	t_run("threads_share_the_schema", test_threads_share_the_schema);
	return t_done();
}
