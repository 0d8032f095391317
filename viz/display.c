/*
 * display.c — the display list: appending commands, dumping them as text
 * (see display.h).
 */
#include "viz/display.h"

#include <stdarg.h>
#include <string.h>

#include "base/mem.h"
#include "viz/palette.h"

void
viz_display_create(struct viz_display *d)
{
	memset(d, 0, sizeof(*d));
}

void
viz_display_destroy(struct viz_display *d)
{
	mem_free(d->cmds);
	mem_free(d->text);
	memset(d, 0, sizeof(*d));
}

void
viz_display_clear(struct viz_display *d, int width, int height)
{
	d->width = width;
	d->height = height;
	d->n_cmds = 0;
	d->text_len = 0;
	d->is_oom = false;
}

static struct viz_cmd *
cmd_new(struct viz_display *d, int kind, int color)
{
	if (d->n_cmds == d->cap_cmds) {
		int cap = d->cap_cmds != 0 ? d->cap_cmds * 2 : 1024;
		struct viz_cmd *c = mem_realloc(d->cmds,
						(size_t)cap * sizeof(*c));
		if (c == NULL) {
			d->is_oom = true;
			return NULL;
		}
		d->cmds = c;
		d->cap_cmds = cap;
	}
	struct viz_cmd *c = &d->cmds[d->n_cmds++];
	memset(c, 0, sizeof(*c));
	c->kind = (uint8_t)kind;
	c->color = (uint8_t)color;
	return c;
}

static int16_t
clip16(int v)
{
	return (int16_t)(v < -30000 ? -30000 : v > 30000 ? 30000 : v);
}

/** A filled or an outlined box: the same command but for its kind. */
static void
box_cmd(struct viz_display *d, int kind, int color, int x, int y, int w,
	int h)
{
	if (w <= 0 || h <= 0)
		return;
	struct viz_cmd *c = cmd_new(d, kind, color);
	if (c == NULL)
		return;
	c->x = clip16(x);
	c->y = clip16(y);
	c->w = clip16(w);
	c->h = clip16(h);
}

void
viz_rect(struct viz_display *d, int color, int x, int y, int w, int h)
{
	box_cmd(d, VIZ_CMD_RECT, color, x, y, w, h);
}

void
viz_frame(struct viz_display *d, int color, int x, int y, int w, int h)
{
	box_cmd(d, VIZ_CMD_FRAME, color, x, y, w, h);
}

void
viz_line(struct viz_display *d, int color, int x1, int y1, int x2, int y2)
{
	struct viz_cmd *c = cmd_new(d, VIZ_CMD_LINE, color);
	if (c == NULL)
		return;
	c->x = clip16(x1);
	c->y = clip16(y1);
	c->w = clip16(x2 - x1);
	c->h = clip16(y2 - y1);
}

void
viz_poly(struct viz_display *d, int color, int n, const int *xs,
	 const int *ys)
{
	if (n < 3 || n > VIZ_POLY_MAX)
		return;
	struct viz_cmd *c = cmd_new(d, VIZ_CMD_POLY, color);
	if (c == NULL)
		return;
	c->n = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		c->px[i] = clip16(xs[i]);
		c->py[i] = clip16(ys[i]);
	}
}

void
viz_text(struct viz_display *d, int color, int font, int align, int x, int y,
	 int wrap, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return;
	size_t len = strlen(text) + 1;
	if (d->text_len + len > d->text_cap) {
		size_t cap = d->text_cap != 0 ? d->text_cap * 2 : 16384;
		while (cap < d->text_len + len)
			cap *= 2;
		char *t = mem_realloc(d->text, cap);
		if (t == NULL) {
			d->is_oom = true;
			return;
		}
		d->text = t;
		d->text_cap = cap;
	}
	struct viz_cmd *c = cmd_new(d, VIZ_CMD_TEXT, color);
	if (c == NULL)
		return;
	c->font = (uint8_t)font;
	c->align = (uint8_t)align;
	c->x = clip16(x);
	c->y = clip16(y);
	c->w = clip16(wrap);
	c->text = (uint32_t)d->text_len;
	memcpy(d->text + d->text_len, text, len);
	d->text_len += len;
}

void
viz_textf(struct viz_display *d, int color, int font, int align, int x,
	  int y, int wrap, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	viz_text(d, color, font, align, x, y, wrap, buf);
}

static const char *const kind_names[] = {
	"rect", "frame", "line", "poly", "text",
};

static const char *const font_names[] = { "small", "normal", "big" };

static const char *const align_names[] = { "left", "center", "right" };

int
viz_display_dump(const struct viz_display *d, FILE *out)
{
	fprintf(out, "frame %d %d\n", d->width, d->height);
	for (int i = 0; i < d->n_cmds; i++) {
		const struct viz_cmd *c = &d->cmds[i];
		fprintf(out, "%s %s", kind_names[c->kind],
			viz_color_name(c->color));
		switch (c->kind) {
		case VIZ_CMD_POLY:
			for (int k = 0; k < c->n; k++)
				fprintf(out, " %d,%d", c->px[k], c->py[k]);
			break;
		case VIZ_CMD_TEXT:
			fprintf(out, " %d %d %s %s w%d \"%s\"", c->x, c->y,
				font_names[c->font % VIZ_FONT_MAX],
				align_names[c->align % 3], c->w,
				viz_cmd_text(d, c));
			break;
		default:
			fprintf(out, " %d %d %d %d", c->x, c->y, c->w, c->h);
		}
		fputc('\n', out);
	}
	return ferror(out) ? -1 : 0;
}

void
viz_display_append(struct viz_display *d, const struct viz_display *src,
		   int dx, int dy)
{
	for (int i = 0; i < src->n_cmds; i++) {
		const struct viz_cmd *c = &src->cmds[i];
		if (c->kind == VIZ_CMD_TEXT) {
			viz_text(d, c->color, c->font, c->align, c->x + dx,
				 c->y + dy, c->w, viz_cmd_text(src, c));
			continue;
		}
		struct viz_cmd *n = cmd_new(d, c->kind, c->color);
		if (n == NULL)
			return;
		*n = *c;
		n->x = clip16(c->x + dx);
		n->y = clip16(c->y + dy);
		for (int k = 0; k < c->n && k < VIZ_POLY_MAX; k++) {
			n->px[k] = clip16(c->px[k] + dx);
			n->py[k] = clip16(c->py[k] + dy);
		}
	}
}
