/*
 * display.h — a frame as plain data: the list of draw commands (rectangles,
 * outlines, lines, convex polygons, text) that the scene (scene.h) makes
 * from a layout and that a back end (draw_sdl.c, the only file with SDL)
 * executes. Being data, a frame can be dumped as text and compared with a
 * golden (tests/golden/viz/), and drawing can never change the model.
 *
 *   state + layout --scene--> display list --draw_sdl--> pixels (PNG, GIF, window)
 *                                     └----dump----> text golden
 */
#ifndef KHARON_VIZ_DISPLAY_H
#define KHARON_VIZ_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum viz_cmd_kind {
	VIZ_CMD_RECT,
	VIZ_CMD_FRAME,
	VIZ_CMD_LINE,
	VIZ_CMD_POLY,
	VIZ_CMD_TEXT,
};

enum viz_font { VIZ_FONT_SMALL, VIZ_FONT_NORMAL, VIZ_FONT_BIG, VIZ_FONT_MAX };

enum viz_align { VIZ_ALIGN_LEFT, VIZ_ALIGN_CENTER, VIZ_ALIGN_RIGHT };

enum { VIZ_POLY_MAX = 8 };

struct viz_cmd {
	uint8_t kind;
	uint8_t color;
	uint8_t font;
	uint8_t align;
	/** RECT/FRAME: x y w h; LINE: x y -> x+w y+h; TEXT: x y, w = wrap width (0: none). */
	int16_t x, y, w, h;
	uint8_t n;
	int16_t px[VIZ_POLY_MAX];
	int16_t py[VIZ_POLY_MAX];
	/** TEXT: offset of its NUL-terminated string in the text arena. */
	uint32_t text;
};

struct viz_display {
	int width;
	int height;
	struct viz_cmd *cmds;
	int n_cmds;
	int cap_cmds;
	char *text;
	size_t text_len;
	size_t text_cap;
	/** A command was dropped for lack of memory. */
	bool is_oom;
};

void
viz_display_create(struct viz_display *d);

void
viz_display_destroy(struct viz_display *d);

/** Start a new frame of width x height (keeps the memory). */
void
viz_display_clear(struct viz_display *d, int width, int height);

void
viz_rect(struct viz_display *d, int color, int x, int y, int w, int h);

void
viz_frame(struct viz_display *d, int color, int x, int y, int w, int h);

void
viz_line(struct viz_display *d, int color, int x1, int y1, int x2, int y2);

/** A convex polygon of n <= VIZ_POLY_MAX points. */
void
viz_poly(struct viz_display *d, int color, int n, const int *xs,
	 const int *ys);

/** Text at (x, y) (top), aligned on x, wrapped at `wrap` px (0: none). */
void
viz_text(struct viz_display *d, int color, int font, int align, int x, int y,
	 int wrap, const char *text);

void
viz_textf(struct viz_display *d, int color, int font, int align, int x,
	  int y, int wrap, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

static inline const char *
viz_cmd_text(const struct viz_display *d, const struct viz_cmd *c)
{
	return d->text + c->text;
}

/** One line per command ("rect 10 20 30 40 river"). Returns 0 or -1. */
/**
 * Append every command of `src` to `d`, moved by (dx, dy): a pane of a
 * side-by-side frame (kharon-view --compare). Out of memory: d->is_oom.
 */
void
viz_display_append(struct viz_display *d, const struct viz_display *src,
		   int dx, int dy);

int
viz_display_dump(const struct viz_display *d, FILE *out);

#endif /* KHARON_VIZ_DISPLAY_H */
