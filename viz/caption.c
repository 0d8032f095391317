/*
 * caption.c — caption templates: parsing and rendering (see caption.h).
 */
#include "viz/caption.h"

#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace.h"
#include "viz/model.h"

enum { CAPTION_MAX_CONDS = 4, CAPTION_VALUE_MAX = 96 };

struct caption_cond {
	char key[24];
	char value[24];
};

struct caption {
	/** Event name, or the label key (without '@'). */
	char name[32];
	bool is_label;
	struct caption_cond conds[CAPTION_MAX_CONDS];
	int n_conds;
	/** Points into the table's own copy of the text. */
	const char *text;
};

struct viz_captions {
	char *text;
	struct caption *items;
	int n_items;
};

int
viz_lang_parse(const char *name)
{
	if (strcmp(name, "en") == 0)
		return VIZ_LANG_EN;
	if (strcmp(name, "ru") == 0)
		return VIZ_LANG_RU;
	return -1;
}

const char *
viz_lang_name(enum viz_lang lang)
{
	return lang == VIZ_LANG_RU ? "ru" : "en";
}

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/** "name[k=v,k=v]" or "@key" into `c`. Returns 0 or -1 (malformed). */
static int
parse_head(char *head, struct caption *c)
{
	head = trim(head);
	if (head[0] == '@') {
		c->is_label = true;
		head++;
	}
	char *br = strchr(head, '[');
	if (br != NULL) {
		size_t n = strlen(br);
		if (c->is_label || n < 2 || br[n - 1] != ']')
			return -1;
		br[n - 1] = '\0';
		*br = '\0';
		for (char *p = br + 1; p != NULL && *p != '\0';) {
			char *comma = strchr(p, ',');
			if (comma != NULL)
				*comma = '\0';
			char *eq = strchr(p, '=');
			if (eq == NULL || c->n_conds == CAPTION_MAX_CONDS)
				return -1;
			*eq = '\0';
			struct caption_cond *cd = &c->conds[c->n_conds++];
			if (snprintf(cd->key, sizeof(cd->key), "%s", trim(p)) >=
			    (int)sizeof(cd->key) ||
			    snprintf(cd->value, sizeof(cd->value), "%s",
				     trim(eq + 1)) >= (int)sizeof(cd->value))
				return -1;
			p = comma != NULL ? comma + 1 : NULL;
		}
	}
	if (head[0] == '\0' || strlen(head) >= sizeof(c->name))
		return -1;
	for (const char *p = head; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_'))
			return -1;
	snprintf(c->name, sizeof(c->name), "%s", head);
	return 0;
}

struct viz_captions *
viz_captions_parse(const char *origin, const char *text, size_t len)
{
	struct viz_captions *c = mem_zalloc(sizeof(*c));
	if (c == NULL) {
		diag_set_oom(sizeof(*c), "captions");
		return NULL;
	}
	c->text = mem_alloc(len + 1);
	int n_lines = 1;
	for (size_t i = 0; i < len; i++)
		n_lines += text[i] == '\n';
	c->items = mem_zalloc((size_t)n_lines * sizeof(*c->items));
	if (c->text == NULL || c->items == NULL) {
		diag_set_oom(len, "captions");
		goto fail;
	}
	memcpy(c->text, text, len);
	c->text[len] = '\0';
	int lineno = 0;
	for (char *line = c->text; line != NULL;) {
		char *nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		lineno++;
		char *s = trim(line);
		line = nl != NULL ? nl + 1 : NULL;
		if (s[0] == '\0' || s[0] == '#')
			continue;
		char *colon = strstr(s, ": ");
		struct caption *it = &c->items[c->n_items];
		if (colon == NULL) {
			diag_set(DIAG_ER_UNKNOWN, "CaptionError",
				 "%s:%d: expected \"name: text\"", origin,
				 lineno);
			goto fail;
		}
		*colon = '\0';
		if (parse_head(s, it) != 0) {
			diag_set(DIAG_ER_UNKNOWN, "CaptionError",
				 "%s:%d: bad name or condition \"%s\"", origin,
				 lineno, s);
			goto fail;
		}
		it->text = trim(colon + 2);
		c->n_items++;
	}
	return c;
fail:
	viz_captions_delete(c);
	return NULL;
}

struct viz_captions *
viz_captions_builtin(enum viz_lang lang)
{
	const char *const *lines = lang == VIZ_LANG_RU ? viz_captions_ru_lines :
				   viz_captions_en_lines;
	size_t len = 0;
	for (int i = 0; lines[i] != NULL; i++)
		len += strlen(lines[i]) + 1;
	char *text = mem_alloc(len + 1);
	if (text == NULL) {
		diag_set_oom(len, "captions");
		return NULL;
	}
	size_t at = 0;
	for (int i = 0; lines[i] != NULL; i++) {
		size_t n = strlen(lines[i]);
		memcpy(text + at, lines[i], n);
		at += n;
		text[at++] = '\n';
	}
	char origin[32];
	snprintf(origin, sizeof(origin), "viz/captions/%s.txt",
		 viz_lang_name(lang));
	struct viz_captions *c = viz_captions_parse(origin, text, at);
	mem_free(text);
	return c;
}

void
viz_captions_delete(struct viz_captions *c)
{
	if (c == NULL)
		return;
	mem_free(c->text);
	mem_free(c->items);
	mem_free(c);
}

bool
viz_captions_has(const struct viz_captions *c, const char *ev)
{
	for (int i = 0; i < c->n_items; i++)
		if (!c->items[i].is_label && strcmp(c->items[i].name, ev) == 0)
			return true;
	return false;
}

const char *
viz_captions_label(const struct viz_captions *c, const char *key)
{
	for (int i = 0; i < c->n_items; i++)
		if (c->items[i].is_label && strcmp(c->items[i].name, key) == 0)
			return c->items[i].text;
	return key;
}

/** Bytes of s up to `max`, not cutting a UTF-8 character in two. */
static int
utf8_prefix(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return (int)max;
}

/** Length of buf[0, len) without a last character cut short. */
static size_t
utf8_whole(const char *buf, size_t len)
{
	size_t lead = len;
	while (lead > 0 && ((unsigned char)buf[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0)
		return len;
	unsigned char c = (unsigned char)buf[lead - 1];
	size_t need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 :
		      c >= 0xC0 ? 2 : 1;
	return len - (lead - 1) < need ? lead - 1 : len;
}

/** The field's value as text into buf; false when the event lacks it. */
static bool
field_text(const struct trace_event *e, const char *key, const char *fmt,
	   char *buf, size_t size)
{
	if (strcmp(key, "cord") == 0) {
		snprintf(buf, size, "%s", e->cord != NULL ? e->cord : "?");
		return true;
	}
	for (int i = 0; i < e->n_fields; i++) {
		const struct trace_field *f = &e->fields[i];
		if (strcmp(f->key, key) != 0)
			continue;
		if (f->s != NULL) {
			if (strlen(f->s) > CAPTION_VALUE_MAX)
				snprintf(buf, size, "%.*s...",
					 utf8_prefix(f->s, CAPTION_VALUE_MAX),
					 f->s);
			else
				snprintf(buf, size, "%s", f->s);
		} else if (fmt != NULL && strcmp(fmt, "ms") == 0) {
			snprintf(buf, size, "%.3g", (double)f->i / 1e6);
		} else if (fmt != NULL && strcmp(fmt, "us") == 0) {
			snprintf(buf, size, "%.3g", (double)f->i / 1e3);
		} else {
			snprintf(buf, size, "%lld", (long long)f->i);
		}
		return true;
	}
	return false;
}

static bool
matches(const struct caption *it, const struct trace_event *e)
{
	char v[96];
	for (int k = 0; k < it->n_conds; k++) {
		if (!field_text(e, it->conds[k].key, NULL, v, sizeof(v)) ||
		    strcmp(v, it->conds[k].value) != 0)
			return false;
	}
	return true;
}

int
viz_captions_render(const struct viz_captions *c, const struct trace_event *e,
		    char *out, size_t size)
{
	const struct caption *it = NULL;
	for (int i = 0; i < c->n_items && it == NULL; i++)
		if (!c->items[i].is_label && strcmp(c->items[i].name, e->ev) == 0 &&
		    matches(&c->items[i], e))
			it = &c->items[i];
	if (it == NULL) {
		snprintf(out, size, "%s", e->ev);
		return -1;
	}
	return viz_caption_expand(it->text, e, out, size);
}

int
viz_caption_expand(const char *text, const struct trace_event *e, char *out,
		   size_t size)
{
	size_t at = 0;
	out[0] = '\0';
	for (const char *p = text; *p != '\0' && at + 1 < size;) {
		const char *close = p[0] == '{' ? strchr(p, '}') : NULL;
		if (close == NULL || close - p > 40) {
			out[at++] = *p++;
			continue;
		}
		char key[48];
		snprintf(key, sizeof(key), "%.*s", (int)(close - p - 1), p + 1);
		char *fmt = strchr(key, ':');
		if (fmt != NULL)
			*fmt++ = '\0';
		char v[128];
		if (!field_text(e, key, fmt, v, sizeof(v)))
			snprintf(v, sizeof(v), "?");
		size_t n = strlen(v);
		if (n > size - 1 - at)
			n = size - 1 - at;
		memcpy(out + at, v, n);
		at += n;
		p = close + 1;
	}
	out[at] = '\0';
	at = utf8_whole(out, at);
	out[at] = '\0';
	return (int)at;
}
