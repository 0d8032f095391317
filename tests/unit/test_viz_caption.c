/*
 * test_viz_caption.c — the caption files: every event documented in
 * docs/trace.md (each "### `name`" heading) has a template in English and
 * Russian, every {field} a template uses is one of that event's documented
 * fields, both files have the same labels, and rendering fills the fields
 * in (conditions pick the variant that explains why).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "trace/trace.h"
#include "viz/caption.h"

enum { DOC_MAX_EVENTS = 128, DOC_MAX_FIELDS = 16 };

struct doc_event {
	char name[40];
	char fields[DOC_MAX_FIELDS][24];
	int n_fields;
};

/** The events of docs/trace.md with their fields. */
static int
doc_events(struct doc_event *out, int max)
{
	FILE *f = fopen("docs/trace.md", "r");
	cr_assert_not_null(f, "docs/trace.md");
	char line[1024];
	int n = 0;
	struct doc_event *cur = NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "### `", 5) == 0) {
			cr_assert_lt(n, max);
			cur = &out[n++];
			memset(cur, 0, sizeof(*cur));
			char *end = strchr(line + 5, '`');
			cr_assert_not_null(end);
			snprintf(cur->name, sizeof(cur->name), "%.*s",
				 (int)(end - line - 5), line + 5);
		} else if (strncmp(line, "## ", 3) == 0) {
			cur = NULL;
		} else if (cur != NULL && strncmp(line, "| `", 3) == 0 &&
			   cur->n_fields < DOC_MAX_FIELDS) {
			char *end = strchr(line + 3, '`');
			snprintf(cur->fields[cur->n_fields++], 24, "%.*s",
				 (int)(end - line - 3), line + 3);
		}
	}
	fclose(f);
	return n;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	static char buf[1 << 17];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

Test(viz_caption, every_documented_event_has_a_template_in_both_languages)
{
	static struct doc_event ev[DOC_MAX_EVENTS];
	int n = doc_events(ev, DOC_MAX_EVENTS);
	cr_assert_geq(n, 40, "docs/trace.md: %d events found", n);
	for (int l = 0; l < VIZ_LANG_MAX; l++) {
		struct viz_captions *c = viz_captions_builtin(l);
		cr_assert_not_null(c, "%s", diag_msg());
		for (int i = 0; i < n; i++)
			cr_assert(viz_captions_has(c, ev[i].name),
				  "viz/captions/%s.txt: no caption for %s",
				  viz_lang_name(l), ev[i].name);
		viz_captions_delete(c);
	}
}

/** Every "{field}" of every template names a documented field. */
static void
check_placeholders(const char *lang, const struct doc_event *ev, int n)
{
	char path[64];
	snprintf(path, sizeof(path), "viz/captions/%s.txt", lang);
	size_t len;
	char *text = read_file(path, &len);
	int lineno = 0;
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		lineno++;
		if (line[0] == '#' || line[0] == '@')
			continue;
		char name[40];
		size_t nl = strcspn(line, "[:");
		snprintf(name, sizeof(name), "%.*s", (int)nl, line);
		const struct doc_event *d = NULL;
		for (int i = 0; i < n; i++)
			if (strcmp(ev[i].name, name) == 0)
				d = &ev[i];
		cr_assert_not_null(d, "%s: \"%s\" is not an event of "
			"docs/trace.md", path, name);
		for (const char *p = strchr(line, '{'); p != NULL;
		     p = strchr(p + 1, '{')) {
			size_t k = strcspn(p + 1, ":}");
			char key[24];
			snprintf(key, sizeof(key), "%.*s", (int)k, p + 1);
			bool ok = strcmp(key, "cord") == 0;
			for (int f = 0; f < d->n_fields; f++)
				ok = ok || strcmp(d->fields[f], key) == 0;
			cr_assert(ok, "%s: %s uses {%s}, not a field of it",
				  path, name, key);
		}
	}
}

Test(viz_caption, templates_use_only_documented_fields)
{
	static struct doc_event ev[DOC_MAX_EVENTS];
	int n = doc_events(ev, DOC_MAX_EVENTS);
	check_placeholders("en", ev, n);
	check_placeholders("ru", ev, n);
}

Test(viz_caption, both_languages_have_the_same_labels)
{
	struct viz_captions *en = viz_captions_builtin(VIZ_LANG_EN);
	struct viz_captions *ru = viz_captions_builtin(VIZ_LANG_RU);
	const char *keys[] = { "left_bank", "right_bank", "river", "kharon",
			       "flag", "help", "timeline", "no_event" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		cr_assert_str_neq(viz_captions_label(en, keys[i]), keys[i]);
		cr_assert_str_neq(viz_captions_label(ru, keys[i]), keys[i]);
		cr_assert_str_neq(viz_captions_label(en, keys[i]),
				  viz_captions_label(ru, keys[i]));
	}
	/* And every label of one file is in the other. */
	size_t len;
	char *text = read_file("viz/captions/en.txt", &len);
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		if (line[0] != '@')
			continue;
		char key[32];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(line + 1, ":"),
			 line + 1);
		/* A missing label comes back as the key pointer itself. */
		cr_assert(viz_captions_label(ru, key) != key,
			  "ru.txt lacks @%s", key);
	}
	viz_captions_delete(en);
	viz_captions_delete(ru);
}

Test(viz_caption, conditions_pick_the_variant_that_explains_why)
{
	struct viz_captions *en = viz_captions_builtin(VIZ_LANG_EN);
	struct trace_field away[] = {
		{ "conn", 1, NULL }, { "sync", 2, NULL }, { "buf", 0, NULL },
		{ "begin", 42, NULL }, { "end", 84, NULL },
		{ "kharon_away", 1, NULL }, { "value", 0, "[3, \"fast\"]" },
	};
	struct trace_event e = { 7, 100, "tx", "push", away, 7, 0 };
	char out[512];
	cr_assert_gt(viz_captions_render(en, &e, out, sizeof(out)), 0);
	cr_assert(strstr(out, "already on the river") != NULL, "%s", out);
	cr_assert(strstr(out, "[3, \"fast\"]") != NULL, "%s", out);
	cr_assert(strstr(out, "84") != NULL, "%s", out);
	away[5].i = 0;
	viz_captions_render(en, &e, out, sizeof(out));
	cr_assert(strstr(out, "already on the river") == NULL, "%s", out);
	/* No template: the event's name, -1. */
	struct trace_event u = { 8, 100, "tx", "no.such", away, 1, 0 };
	cr_assert_eq(viz_captions_render(en, &u, out, sizeof(out)), -1);
	cr_assert_str_eq(out, "no.such");
	/* A tiny buffer never cuts a character in two. */
	struct viz_captions *ru = viz_captions_builtin(VIZ_LANG_RU);
	for (size_t size = 1; size < 40; size++) {
		char small[40];
		viz_captions_render(ru, &e, small, size);
		size_t n = strlen(small);
		cr_assert_lt(n, size);
		cr_assert(n == 0 || ((unsigned char)small[n - 1] & 0xC0) != 0xC0);
	}
	viz_captions_delete(ru);
	viz_captions_delete(en);
}

Test(viz_caption, a_malformed_line_is_reported_with_its_number)
{
	const char *bad = "# ok\npush: fine\nno colon here\n";
	cr_assert_null(viz_captions_parse("x.txt", bad, strlen(bad)));
	cr_assert(strstr(diag_msg(), "x.txt:3") != NULL, "%s", diag_msg());
	const char *cond = "push[kharon_away]: no value\n";
	cr_assert_null(viz_captions_parse("y.txt", cond, strlen(cond)));
	cr_assert(strstr(diag_msg(), "y.txt:1") != NULL, "%s", diag_msg());
}
