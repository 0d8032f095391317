/*
 * caption.h — the caption line: one sentence per event saying what happens
 * and why, from templates in data files, one per language
 * (viz/captions/en.txt, viz/captions/ru.txt, built into the binary), with
 * the event's fields filled in:
 *
 *   push[kharon_away=1]: Kharon is already on the river: push {value} ...
 *        └ conditions ┘   └ text, {field} / {field:ms} / {cord} ┘
 *
 * The same files hold the viewer's own labels ("@left_bank: ..."), so the
 * whole picture switches language at run time (L). A test keeps every
 * event of docs/trace.md covered in both languages.
 */
#ifndef KHARON_VIZ_CAPTION_H
#define KHARON_VIZ_CAPTION_H

#include <stdbool.h>
#include <stddef.h>

struct trace_event;
struct viz_captions;

enum viz_lang { VIZ_LANG_EN, VIZ_LANG_RU, VIZ_LANG_MAX };

/** "en" / "ru" -> the language, -1 for anything else. */
int
viz_lang_parse(const char *name);

const char *
viz_lang_name(enum viz_lang lang);

/**
 * Parse a captions text (the format at the top of en.txt). `origin` names
 * it in errors. Returns the table, or NULL with diag "ORIGIN:LINE: ..." on
 * a malformed line or OOM.
 */
struct viz_captions *
viz_captions_parse(const char *origin, const char *text, size_t len);

/** The built-in table of `lang` (the files compiled in). NULL + diag. */
struct viz_captions *
viz_captions_builtin(enum viz_lang lang);

void
viz_captions_delete(struct viz_captions *c);

/** Has a template (any, conditional or not) for event name `ev`. */
bool
viz_captions_has(const struct viz_captions *c, const char *ev);

/** A label ("left_bank"); the key itself when the file lacks it. */
const char *
viz_captions_label(const struct viz_captions *c, const char *key);

/**
 * The caption of `e` into out[size] (always NUL-terminated; string fields
 * longer than 96 bytes are cut with "..."). Returns the length, or -1
 * when no template matches (then `out` holds the event's name).
 */
int
viz_captions_render(const struct viz_captions *c, const struct trace_event *e,
		    char *out, size_t size);

/**
 * Template `text` with `e`'s fields filled in ({field}, {field:ms},
 * {field:us}, {cord}; a field the event lacks becomes "?") into out[size]
 * (always NUL-terminated, cut at a whole UTF-8 character). Returns the
 * length. A tour stop's caption is rendered with it.
 */
int
viz_caption_expand(const char *text, const struct trace_event *e, char *out,
		   size_t size);

/** The caption files, compiled in by the Makefile: NULL-terminated lines. */
extern const char *const viz_captions_en_lines[];
extern const char *const viz_captions_ru_lines[];

#endif /* KHARON_VIZ_CAPTION_H */
