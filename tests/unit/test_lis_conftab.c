/* The shared configuration engine (lis_conftab.c) on a table of its own: typed values, the
 * file with FILE:LINE messages, the hooks for sections outside the table, command-line twins,
 * help lines and freeing. */
#include "check.h"
#include "lis_conftab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct demo {
	char *name;
	char *dir;
	unsigned long count;
	double ratio;
	bool on;
	int colour;
	int level;
	unsigned extra_line;         /* hook: line of the key in [extra] */
	bool finished;               /* hook: finish ran */
};

#define OFF(f) offsetof(struct demo, f)

static int check_no_x(const struct conftab_key *k, const char *v, char *why, size_t why_size)
{
	if (strchr(v, 'x')) {
		snprintf(why, why_size, "%s: \"%.64s\" holds an x", k->name, v);
		return -1;
	}
	return 0;
}

static const char *const colour_names[] = { "red", "green" };
static const int colour_values[] = { 7, 9 };
static const struct conftab_enum colours = { colour_names, colour_values, 2, "red or green" };

static const struct conftab_key keys[] = {
	{ "main", "name", CONFTAB_STR, OFF(name), "", 0, 0, NULL, "NAME", "a name",
	  .flags = CONFTAB_UPCASE, .check = check_no_x },
	{ "main", "dir", CONFTAB_PATH, OFF(dir), "/tmp", 0, 0, NULL, "DIR", "a directory",
	  .flags = 0 },
	{ "main", "count", CONFTAB_UINT, OFF(count), "3", 1, 10, NULL, "N", "how many",
	  .flags = 0 },
	{ "main", "ratio", CONFTAB_DOUBLE, OFF(ratio), "0.5", 0, 0, NULL, "R", "a ratio",
	  .dmin = 0, .dmax = 1 },
	{ "other", "on", CONFTAB_BOOL, OFF(on), "true", 0, 0, "switch", "BOOL", "on or off",
	  .flags = 0 },
	{ "other", "colour", CONFTAB_ENUM, OFF(colour), "red", 0, 0, NULL, "red|green", "colour",
	  .choices = &colours },
	{ "other", "level", CONFTAB_LOG_LEVEL, OFF(level), "info", 0, 0, NULL, "LEVEL", "level",
	  .flags = 0 },
};

static int on_section(struct conftab_file *cf, const char *name)
{
	(void)cf;
	return strcmp(name, "extra") == 0 ? 0 : -1;
}

static int on_key(struct conftab_file *cf, const char *section, const char *name,
		  const char *value)
{
	(void)value;
	if (strcmp(section, "extra") != 0)
		return -1;
	if (strcmp(name, "bad") == 0) {
		conftab_fail(cf, cf->line, "bad is refused");
		return 0;
	}
	((struct demo *)cf->base)->extra_line = cf->line;
	return 1;
}

static void on_finish(struct conftab_file *cf)
{
	((struct demo *)cf->base)->finished = true;
}

static const struct conftab_table table = { keys, sizeof keys / sizeof keys[0], NULL,
					    on_section, on_key, on_finish };

static char path[64];

/* Read text as a file into d (defaults first); the message of a failure in err. */
static int load_text(struct demo *d, const char *text, struct lis_error *err)
{
	memset(d, 0, sizeof *d);
	if (conftab_set_defaults(&table, d, err) < 0)
		return -1;
	snprintf(path, sizeof path, "/tmp/test_lis_conftab.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!CHECK(f != NULL))
		return -1;
	fputs(text, f);
	fclose(f);
	int rc = conftab_load_file(&table, d, path, err);
	unlink(path);
	return rc;
}

static void expect_error(const char *text, unsigned line, const char *want)
{
	struct demo d;
	struct lis_error err = { 0 };
	int rc = load_text(&d, text, &err);
	char full[300];
	snprintf(full, sizeof full, "%s:%u: %s", path, line, want);
	CHECKF(rc < 0, "accepted: %s", text);
	CHECK(err.code == LIS_E_USAGE);
	CHECK_STR(err.msg, full);
	conftab_free(keys, table.n_keys, &d);
}

static void test_defaults_and_typed_values_are_read(void)
{
	struct demo d;
	struct lis_error err = { 0 };
	CHECK(load_text(&d, "[main]\nname = abc\ncount = 10\nratio = 0.25\n"
			"[other]\non = off\ncolour = green\nlevel = debug\n[extra]\nk = v\n",
			&err) == 0);
	CHECK_STR(d.name, "ABC");
	CHECK_STR(d.dir, "/tmp");
	CHECK(d.count == 10);
	CHECK(d.ratio == 0.25);
	CHECK(!d.on);
	CHECK(d.colour == 9);
	CHECK(d.extra_line == 10);
	CHECK(d.finished);
	conftab_free(keys, table.n_keys, &d);
	CHECK(d.name == NULL && d.dir == NULL);
}

static void test_bad_values_name_file_and_line(void)
{
	expect_error("[main]\ncount = 11\n", 2, "count: \"11\" is not a whole number in 1..10");
	expect_error("[main]\nratio = 1.5\n", 2, "ratio: \"1.5\" is not a fraction in 0..1");
	expect_error("[main]\nratio = 1e0\n", 2, "ratio: \"1e0\" is not a fraction in 0..1");
	expect_error("[main]\ndir =\n", 2, "dir must not be empty");
	expect_error("[main]\nname = x\n", 2, "name: \"x\" holds an x");
	expect_error("\n[other]\ncolour = blue\n", 3, "colour: \"blue\" is not red or green");
	expect_error("[other]\non = maybe\n", 2, "on: \"maybe\" is not true or false");
	expect_error("[other]\nlevel = loud\n", 2,
		     "level: \"loud\" is not err, warn, info or debug");
	expect_error("[main]\ncount = 2\ncount = 3\n", 3, "count given twice (first on line 2)");
	expect_error("[main]\ncount = 2\n  count = 3\n", 3,
		     "indented line continues count; remove the leading space");
	expect_error("[main]\nnope = 1\n", 2, "unknown key \"nope\" in section [main]");
	expect_error("[main]\n[elsewhere]\n", 2, "unknown section [elsewhere]");
	expect_error("[extra]\nbad = 1\n", 2, "bad is refused");
	expect_error("[main]\nthis is no key\n", 2,
		     "syntax error (expected [section], key = value or ; comment)");
}

static void test_twins_override_and_bad_options_are_refused(void)
{
	struct demo d = { 0 };
	struct lis_error err = { 0 };
	const char *file = NULL;
	bool seen[1] = { false };
	static const char *const flags[] = { "--dry", NULL };
	char *argv[] = { "demo", "--count", "4", "--dry", "-c", "f.conf", "--switch=no",
			 "--colour", "green", NULL };
	CHECK(conftab_set_defaults(&table, &d, &err) == 0);
	CHECK(conftab_check_args(&table, 9, argv, flags, seen, "demo", &file, &err) == 0);
	CHECK(seen[0]);
	CHECK_STR(file, "f.conf");
	CHECK(conftab_apply_args(&table, &d, 9, argv, flags, &err) == 0);
	CHECK(d.count == 4 && !d.on && d.colour == 9);

	char *bad1[] = { "demo", "--on", "no", NULL };
	CHECK(conftab_check_args(&table, 3, bad1, flags, NULL, "demo", &file, &err) < 0);
	CHECK_STR(err.msg, "unknown option --on (see demo --help)");
	char *bad2[] = { "demo", "--count", NULL };
	CHECK(conftab_check_args(&table, 2, bad2, flags, NULL, "demo", &file, &err) < 0);
	CHECK_STR(err.msg, "--count: needs a value");
	char *bad3[] = { "demo", "--count", "0", NULL };
	CHECK(conftab_check_args(&table, 3, bad3, flags, NULL, "demo", &file, &err) == 0);
	CHECK(conftab_apply_args(&table, &d, 3, bad3, flags, &err) < 0);
	CHECK_STR(err.msg, "--count: \"0\" is not a whole number in 1..10");
	conftab_free(keys, table.n_keys, &d);
}

static void test_help_lists_every_key_under_its_section(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!CHECK(out != NULL))
		return;
	conftab_print_help(&table, out);
	fclose(out);
	CHECK(strstr(text, " [main]\n  --name NAME") != NULL);
	CHECK(strstr(text, "a name (default: \"\")\n") != NULL);
	CHECK(strstr(text, " [other]\n  --switch BOOL") != NULL);
	CHECK(strstr(text, "  --count N                          how many (default: 3)\n") !=
	      NULL);
	free(text);
}

int main(void)
{
	t_run("test_defaults_and_typed_values_are_read", test_defaults_and_typed_values_are_read);
	t_run("test_bad_values_name_file_and_line", test_bad_values_name_file_and_line);
	t_run("test_twins_override_and_bad_options_are_refused",
	      test_twins_override_and_bad_options_are_refused);
	t_run("test_help_lists_every_key_under_its_section",
	      test_help_lists_every_key_under_its_section);
	return t_done();
}
