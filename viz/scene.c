/*
 * scene.c — state + layout -> display list for one frame (see scene.h).
 * Drawn back to front: banks and river, rows (buffers), boats, Kharon,
 * clients, caption, timeline, overlays.
 */
#include "viz/scene.h"

#include <stdio.h>
#include <string.h>

#include "scenario/invariants.h"
#include "trace/trace.h"
#include "viz/caption.h"
#include "viz/display.h"
#include "viz/history.h"
#include "viz/layout.h"
#include "viz/model.h"
#include "viz/palette.h"
#include "viz/tour.h"
#include "viz/ui.h"

/** What every helper needs. */
struct frame {
	struct viz_display *d;
	const struct viz_layout *l;
	const struct viz_state *s;
	const struct viz_history *h;
	const struct viz_ui *ui;
	const struct viz_captions *cap;
	/** Index + 1 of the last event shown (0: none). */
	uint32_t cur;
	/** What the last event touched, framed so the eye finds it. */
	int act_kind;
	int32_t act_conn;
	int act_buf;
	int act_cord;
};

/** Which part of the picture the last event is about. */
static void
find_active(struct frame *f)
{
	f->act_kind = VIZ_HIT_NONE;
	f->act_cord = -1;
	if (f->cur == 0)
		return;
	struct viz_event buf;
	const struct trace_event *e = viz_history_event(f->h, f->cur - 1, &buf);
	const char *ev = e->ev;
	f->act_conn = (int32_t)viz_ev_int(e, "conn", 0);
	f->act_buf = (int)viz_ev_int(e, "buf", 0);
	if (strncmp(ev, "obuf.", 5) == 0 || strcmp(ev, "port.dump") == 0 ||
	    strcmp(ev, "push") == 0 || strcmp(ev, "reply.error") == 0 ||
	    strcmp(ev, "net.writev") == 0 || strcmp(ev, "net.switch_obuf") == 0)
		f->act_kind = VIZ_HIT_OBUF;
	else if (strncmp(ev, "ibuf.", 5) == 0 || strcmp(ev, "req.parse") == 0)
		f->act_kind = VIZ_HIT_IBUF;
	else if (strncmp(ev, "kharon.", 7) == 0)
		f->act_kind = VIZ_HIT_KHARON;
	else if (strcmp(ev, "cpipe.flush") == 0 || strcmp(ev, "cbus.fetch") == 0) {
		f->act_kind = VIZ_HIT_CORD;
		f->act_cord = viz_state_cord(f->s, strcmp(ev, "cbus.fetch") == 0 ?
					     e->cord : viz_ev_str(e, "to"));
	}
}

static bool
is_active(const struct frame *f, int kind, int32_t conn, int buf)
{
	return f->act_kind == kind && f->act_conn == conn &&
	       (buf < 0 || f->act_buf == buf);
}

static const char *
L(const struct frame *f, const char *key)
{
	return viz_captions_label(f->cap, key);
}

/*
 * About how wide `s` is drawn in `font`, px: its characters (not bytes)
 * times an average advance of DejaVu Sans (11, 14, 17 px; Cyrillic's
 * widest for the titles). The exact width is the back end's business;
 * the scene only needs to know what will not fit.
 */
static int
text_w(const char *s, int font)
{
	static const int char_w[VIZ_FONT_MAX] = { 7, 8, 11 };
	int n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n * char_w[font % VIZ_FONT_MAX];
}

/** A legend's swatch and the space after it. */
enum { LEGEND_SWATCH_W = 14 };

/** Faded (another connection is in focus) colours are one grey. */
static int
col(bool fade, int c)
{
	return fade ? VIZ_C_FADE : c;
}

static bool
is_recent(const struct frame *f, uint32_t ev_plus1, uint32_t within)
{
	return ev_plus1 != 0 && f->cur >= ev_plus1 && f->cur - ev_plus1 < within;
}

/* ------------------------------------------------------------ banks */

static void
draw_banks(const struct frame *f)
{
	struct viz_display *d = f->d;
	const struct viz_layout *l = f->l;
	viz_rect(d, VIZ_C_LIVING, l->left.x, l->left.y, l->left.w, l->left.h);
	viz_rect(d, VIZ_C_RIVER, l->river.x, l->river.y, l->river.w,
		 l->river.h);
	viz_rect(d, VIZ_C_DEAD, l->right.x, l->right.y, l->right.w,
		 l->right.h);
	viz_rect(d, VIZ_C_CLIENTS, l->clients.x, l->clients.y, l->clients.w,
		 l->clients.h);
	/* Shores and waves (still: a GIF stores only what changes). */
	viz_rect(d, VIZ_C_RIVER_DEEP, l->river.x, l->river.y, 3, l->river.h);
	viz_rect(d, VIZ_C_RIVER_DEEP, l->river.x + l->river.w - 3, l->river.y,
		 3, l->river.h);
	int drift = 0;
	/* Waves down to the legends' band, not through its words. */
	for (int y = l->river.y + 50; y < l->river.y + l->river.h - 36;
	     y += 22) {
		int off = ((y / 22) % 2) * 12 + drift;
		for (int x = l->river.x + 8 + off % 24;
		     x + 10 < l->river.x + l->river.w - 6; x += 24)
			viz_line(d, VIZ_C_WAVE, x, y, x + 8, y);
	}
	/* A narrow bank (side by side) takes the short title: the long one
	 * would run under TX's bell and into the river. */
	const char *left_title = L(f, "left_bank");
	if (text_w(left_title, VIZ_FONT_BIG) > l->left.w - 100)
		left_title = L(f, "left_bank_short");
	const char *right_title = L(f, "right_bank");
	if (text_w(right_title, VIZ_FONT_BIG) > l->right.w - 16)
		right_title = L(f, "right_bank_short");
	viz_text(d, VIZ_C_LIVING_EDGE, VIZ_FONT_BIG, VIZ_ALIGN_LEFT,
		 l->left.x + 10, l->left.y + 4, 0, left_title);
	viz_text(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, l->left.x + 10,
		 l->left.y + 28, 0, L(f, "left_bank_sub"));
	/* On one line: a wrapped title would sit in the lane of boats of
	 * no known connection. */
	const char *river_title = L(f, "river");
	if (text_w(river_title, VIZ_FONT_NORMAL) > l->river.w - 8)
		river_title = L(f, "river_short");
	viz_text(d, VIZ_C_WHITE, VIZ_FONT_NORMAL, VIZ_ALIGN_CENTER,
		 l->river.x + l->river.w / 2, l->river.y + 6, l->river.w - 8,
		 river_title);
	viz_text(d, VIZ_C_DEAD_EDGE, VIZ_FONT_BIG, VIZ_ALIGN_LEFT,
		 l->right.x + 10, l->right.y + 4, 0, right_title);
	viz_text(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, l->right.x + 10,
		 l->right.y + 28, 0, L(f, "right_bank_sub"));
	viz_text(d, VIZ_C_INK, VIZ_FONT_BIG, VIZ_ALIGN_LEFT, l->clients.x + 8,
		 l->clients.y + 4, 0, L(f, "clients"));
}

static void
legend(const struct frame *f, int x, int y, int w, const int *colors,
       const char *const *keys, int n)
{
	/*
	 * Each item as wide as its label (text_w), placed left to right
	 * with the room left shared between them; when they do not fit on
	 * one line (Russian's longer labels in a narrow window) they wrap,
	 * and the lines grow upwards from `y`, so that no label runs into
	 * the next or off its bank.
	 */
	enum { GAP_MIN = 12, GAP_MAX = 48, LINE_H = 16, MAX_ITEMS = 8 };
	int width[MAX_ITEMS], line_of[MAX_ITEMS];
	if (n > MAX_ITEMS)
		n = MAX_ITEMS;
	int lines = 1, at = 0, used = 0;
	for (int i = 0; i < n; i++) {
		width[i] = LEGEND_SWATCH_W +
			   text_w(L(f, keys[i]), VIZ_FONT_SMALL);
		if (at > 0 && at + width[i] > w) {
			lines++;
			at = 0;
		}
		line_of[i] = lines - 1;
		at += width[i] + GAP_MIN;
		used += width[i];
	}
	int gap = GAP_MIN;
	if (lines == 1 && n > 1 && w > used)
		gap = (w - used) / (n - 1) < GAP_MAX ? (w - used) / (n - 1) :
						      GAP_MAX;
	int cx = x;
	for (int i = 0; i < n; i++) {
		if (i > 0 && line_of[i] != line_of[i - 1])
			cx = x;
		int cy = y - (lines - 1 - line_of[i]) * LINE_H;
		viz_rect(f->d, colors[i], cx, cy + 2, 10, 10);
		viz_frame(f->d, VIZ_C_BUF_EDGE, cx, cy + 2, 10, 10);
		viz_text(f->d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
			 cx + 14, cy, 0, L(f, keys[i]));
		cx += width[i] + gap;
	}
}

static void
draw_legends(const struct frame *f)
{
	const struct viz_layout *l = f->l;
	static const int oc[] = { VIZ_C_BUF_SENT, VIZ_C_BUF_DATA,
				  VIZ_C_RESERVED, VIZ_C_ROLLBACK };
	static const char *const ok[] = { "l_sent", "l_unsent", "l_reserved",
					  "l_rollback" };
	legend(f, l->left.x + 8, l->left.y + l->left.h - 18, l->left.w - 12,
	       oc, ok, 4);
	static const int ic[] = { VIZ_C_CONSUMED, VIZ_C_INFLIGHT,
				  VIZ_C_UNPARSED };
	static const char *const ik[] = { "l_consumed", "l_inflight",
					  "l_unparsed" };
	legend(f, l->right.x + 8, l->right.y + l->right.h - 18,
	       l->right.w - 12, ic, ik, 3);
	static const int bc[] = { VIZ_C_BOAT_REQ, VIZ_C_BOAT_REPLY };
	static const char *const bk[] = { "l_to_tx", "l_to_net" };
	/* Two lines in the legends' band; a river too narrow for the long
	 * labels (text_w) gets the short ones. */
	static const char *const bk_short[] = { "l_to_tx_short",
						 "l_to_net_short" };
	int room = l->river.w - 28;
	bool is_short = false;
	for (int i = 0; i < 2; i++)
		is_short |= text_w(L(f, bk[i]), VIZ_FONT_SMALL) > room;
	for (int i = 0; i < 2; i++) {
		int y = l->river.y + l->river.h - 34 + i * 16;
		viz_rect(f->d, bc[i], l->river.x + 8, y + 2, 10, 10);
		viz_text(f->d, VIZ_C_WHITE, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
			 l->river.x + 22, y, 0,
			 L(f, is_short ? bk_short[i] : bk[i]));
	}
}

static void
draw_bell(const struct frame *f, int i)
{
	const struct viz_cord *c = &f->s->cords[i];
	const struct viz_rect *b = &f->l->cord_bell[i];
	if (b->w == 0)
		return;
	bool rung = is_recent(f, c->bell_ev, 3);
	int bx = b->x + 2, by = b->y + 2;
	int xs[4] = { bx + 4, bx + 10, bx + 14, bx };
	int ys[4] = { by, by, by + 14, by + 14 };
	viz_poly(f->d, rung ? VIZ_C_BELL_RUNG : VIZ_C_BELL, 4, xs, ys);
	viz_rect(f->d, VIZ_C_INK, bx + 5, by + 14, 4, 3);
	if (rung) {
		viz_line(f->d, VIZ_C_BELL_RUNG, bx - 4, by + 2, bx - 1, by + 5);
		viz_line(f->d, VIZ_C_BELL_RUNG, bx + 18, by + 2, bx + 15,
			 by + 5);
	}
	viz_text(f->d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, bx + 18, by,
		 0, c->name);
	if (f->act_kind == VIZ_HIT_CORD && f->act_cord == i)
		viz_frame(f->d, VIZ_C_CURSOR, b->x - 2, b->y - 2, b->w + 4,
			  b->h + 4);
	if (f->ui->sel.kind == VIZ_HIT_CORD && f->ui->sel.id == i)
		viz_frame(f->d, VIZ_C_HIGHLIGHT, b->x, b->y, b->w, b->h);
}

static void
draw_tasks(const struct frame *f)
{
	const struct viz_rect *r = &f->l->tasks;
	viz_text(f->d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, r->x, r->y + 3,
		 0, L(f, "tasks"));
	int x = r->x + 46;
	/* Room at the right end for "more connections: N" (draw_rows). */
	int right = r->x + r->w;
	if (f->l->n_rows_hidden > 0)
		right -= text_w(L(f, "more_conns"), VIZ_FONT_SMALL) + 28;
	for (int i = 0; i < f->s->n_tasks && x + 90 < right; i++) {
		const struct viz_task *t = &f->s->tasks[i];
		int c = t->is_waiting ? VIZ_C_TASK_WAIT : VIZ_C_TASK_RUN;
		viz_rect(f->d, c, x, r->y, 96, r->h);
		viz_textf(f->d, t->is_waiting ? VIZ_C_INK : VIZ_C_WHITE,
			  VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 3, r->y + 3, 0,
			  "%s%d %s", t->is_waiting ? "zz " : "", t->id,
			  t->proc[0] != '\0' ? t->proc : "msg");
		x += 100;
	}
	if (f->s->n_exhausted > 0)
		viz_textf(f->d, VIZ_C_ROLLBACK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
			  x, r->y + 3, 0, "pool full x%u", f->s->n_exhausted);
}

/* ------------------------------------------------------------ buffers */

static void
span(struct viz_display *d, int color, const struct viz_rect *r, int64_t a,
     int64_t b, int64_t cap)
{
	int x1 = viz_layout_byte_x(r, a, cap);
	int x2 = viz_layout_byte_x(r, b, cap);
	/* A few bytes in a big buffer still show: 2 px at least. */
	if (b > a && x2 - x1 < 2)
		x2 = x1 + 3;
	if (x2 > x1)
		viz_rect(d, color, x1, r->y, x2 - x1, r->h);
}

static void
draw_obuf(const struct frame *f, const struct viz_conn *c, int b,
	  const struct viz_rect *r, bool fade)
{
	struct viz_display *d = f->d;
	const struct viz_obuf *o = &c->obuf[b];
	int64_t cap = viz_layout_obuf_cap(c);
	viz_rect(d, VIZ_C_BUF_EMPTY, r->x, r->y, r->w, r->h);
	span(d, col(fade, VIZ_C_BUF_SENT), r, 0, o->sent, cap);
	span(d, col(fade, VIZ_C_BUF_DATA), r, o->sent, o->used, cap);
	if (o->has_reserve)
		span(d, col(fade, VIZ_C_RESERVED), r, o->svp,
		     o->svp + o->reserve_size, cap);
	bool rolled = is_recent(f, o->rollback_ev, 6);
	if (rolled) {
		int x1 = viz_layout_byte_x(r, o->rollback_to, cap);
		int x2 = viz_layout_byte_x(r, o->rollback_from, cap);
		viz_frame(d, VIZ_C_ROLLBACK, x1, r->y - 2, x2 - x1 + 1,
			  r->h + 4);
	}
	viz_frame(d, col(fade, VIZ_C_BUF_EDGE), r->x, r->y, r->w, r->h);
	if (c->wend_buf == b && c->wend > 0) {
		int x = viz_layout_byte_x(r, c->wend, cap);
		viz_line(d, col(fade, VIZ_C_CURSOR), x, r->y - 3, x,
			 r->y + r->h + 2);
	}
	bool tx_here = c->obuf_tx == b;
	viz_textf(d, col(fade, tx_here ? VIZ_C_LIVING_EDGE : VIZ_C_DIM),
		  VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, r->x - 56, r->y, 0,
		  "%s%s %d", tx_here ? "> " : "  ", L(f, "obuf"), b);
	char info[192];
	int n = snprintf(info, sizeof(info), "%s %lld  %s %lld",
			 L(f, "written"), (long long)o->used, L(f, "sent"),
			 (long long)o->sent);
	if (o->has_reserve && n > 0 && (size_t)n < sizeof(info))
		n += snprintf(info + n, sizeof(info) - (size_t)n,
			      "  %s %lld..%lld", L(f, "reserved"),
			      (long long)o->svp,
			      (long long)(o->svp + o->reserve_size));
	if (rolled && n > 0 && (size_t)n < sizeof(info))
		snprintf(info + n, sizeof(info) - (size_t)n, "  %s %lld..%lld",
			 L(f, "rollback"), (long long)o->rollback_to,
			 (long long)o->rollback_from);
	/* A narrow bank (side by side): "written N  sent M" becomes "N / M"
	 * rather than run into the river (text_w). */
	int room = f->l->left.x + f->l->left.w - r->x - 4;
	if (text_w(info, VIZ_FONT_SMALL) > room) {
		const char *rest = strstr(info, "  ");
		rest = rest != NULL ? strstr(rest + 2, "  ") : NULL;
		char compact[192];
		snprintf(compact, sizeof(compact), "%lld / %lld%s",
			 (long long)o->used, (long long)o->sent,
			 rest != NULL ? rest : "");
		snprintf(info, sizeof(info), "%s", compact);
	}
	viz_text(d, col(fade, VIZ_C_INK), VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, r->x,
		 r->y + r->h + 1, 0, info);
	if (r->h >= 26)
		viz_textf(d, col(fade, VIZ_C_DIM), VIZ_FONT_SMALL,
			  VIZ_ALIGN_LEFT, r->x - 54, r->y + 13, 0, "/%lld B",
			  (long long)cap);
	if (is_active(f, VIZ_HIT_OBUF, c->id, b))
		viz_frame(d, VIZ_C_CURSOR, r->x - 4, r->y - 4, r->w + 8,
			  r->h + 8);
	if (f->ui->sel.kind == VIZ_HIT_OBUF && f->ui->sel.conn == c->id &&
	    f->ui->sel.buf == b)
		viz_frame(d, VIZ_C_HIGHLIGHT, r->x - 2, r->y - 2, r->w + 4,
			  r->h + 4);
}

static void
draw_ibuf(const struct frame *f, const struct viz_conn *c, int b,
	  const struct viz_rect *r, bool fade)
{
	struct viz_display *d = f->d;
	const struct viz_ibuf *ib = &c->ibuf[b];
	int64_t cap = viz_layout_ibuf_cap(c);
	struct viz_rect mem = *r;
	mem.w = viz_layout_byte_x(r, ib->end, cap) - r->x;
	if (mem.w < 2)
		mem.w = 2;
	viz_rect(d, VIZ_C_BUF_EMPTY, mem.x, mem.y, mem.w, mem.h);
	/*
	 * [0, rpos) is given back; [rpos, rpos + in_flight) holds requests
	 * parsed and still at TX (the bytes their messages point into);
	 * the rest up to wpos is not parsed yet (Tarantool: parse_size).
	 */
	int64_t parsed = ib->rpos + ib->in_flight;
	if (parsed > ib->wpos)
		parsed = ib->wpos;
	span(d, col(fade, VIZ_C_CONSUMED), r, 0, ib->rpos, cap);
	span(d, col(fade, VIZ_C_INFLIGHT), r, ib->rpos, parsed, cap);
	span(d, col(fade, VIZ_C_UNPARSED), r, parsed, ib->wpos, cap);
	viz_frame(d, col(fade, VIZ_C_BUF_EDGE), mem.x, mem.y, mem.w, mem.h);
	if (ib->end > cap)
		viz_text(d, col(fade, VIZ_C_DIM), VIZ_FONT_NORMAL,
			 VIZ_ALIGN_RIGHT, r->x + r->w - 2, r->y + 1, 0, ">>");
	if (r->h >= 26)
		viz_textf(d, col(fade, VIZ_C_DIM), VIZ_FONT_SMALL,
			  VIZ_ALIGN_LEFT, r->x - 46, r->y + 13, 0, "/%lld B",
			  (long long)cap);
	bool cur = c->ibuf_cur == b;
	viz_textf(d, col(fade, cur ? VIZ_C_DEAD_EDGE : VIZ_C_DIM),
		  VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, r->x - 48, r->y, 0, "%s%s %d",
		  cur ? "> " : "  ", L(f, "ibuf"), b);
	static const char *const moves[] = { "", " compact", " grow" };
	char pos[96];
	snprintf(pos, sizeof(pos), "rpos %lld  wpos %lld  end %lld%s",
		 (long long)ib->rpos, (long long)ib->wpos, (long long)ib->end,
		 moves[ib->move % 3]);
	/* Up to the socket's box: in a narrow bank "end" gives way, then
	 * the words. */
	if (text_w(pos, VIZ_FONT_SMALL) > r->w + 6)
		snprintf(pos, sizeof(pos), "rpos %lld  wpos %lld%s",
			 (long long)ib->rpos, (long long)ib->wpos,
			 moves[ib->move % 3]);
	if (text_w(pos, VIZ_FONT_SMALL) > r->w + 6)
		snprintf(pos, sizeof(pos), "r %lld  w %lld",
			 (long long)ib->rpos, (long long)ib->wpos);
	viz_text(d, col(fade, VIZ_C_INK), VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
		 r->x, r->y + r->h + 1, 0, pos);
	if (is_active(f, VIZ_HIT_IBUF, c->id, b))
		viz_frame(d, VIZ_C_CURSOR, r->x - 4, r->y - 4, r->w + 8,
			  r->h + 8);
	if (f->ui->sel.kind == VIZ_HIT_IBUF && f->ui->sel.conn == c->id &&
	    f->ui->sel.buf == b)
		viz_frame(d, VIZ_C_HIGHLIGHT, r->x - 2, r->y - 2, r->w + 4,
			  r->h + 4);
}

/* ------------------------------------------------------------ Kharon */

static void
draw_flag(const struct frame *f, const struct viz_row *w, bool up, bool fade)
{
	int x = w->flag_x, y = w->row.y + w->row.h / 2;
	viz_rect(f->d, col(fade, VIZ_C_POLE), x, y - 30, 3, 38);
	if (up) {
		int xs[3] = { x + 3, x + 21, x + 3 };
		int ys[3] = { y - 30, y - 23, y - 16 };
		viz_poly(f->d, col(fade, VIZ_C_FLAG), 3, xs, ys);
		viz_text(f->d, col(fade, VIZ_C_FLAG), VIZ_FONT_SMALL,
			 VIZ_ALIGN_RIGHT, x + 20, y - 46, 0, L(f, "flag"));
	}
}

static void
draw_kharon(const struct frame *f, int x, int y, bool fade, bool selected)
{
	struct viz_display *d = f->d;
	/* The hull, a long dark punt with a raised prow. */
	int hx[5] = { x - 2, x + 46, x + 40, x + 6, x - 2 };
	int hy[5] = { y - 2, y - 2, y + 9, y + 9, y - 2 };
	viz_poly(d, col(fade, VIZ_C_KHARON_HULL), 4, hx, hy);
	int px[3] = { x + 40, x + 48, x + 46 };
	int py[3] = { y - 2, y - 8, y - 2 };
	viz_poly(d, col(fade, VIZ_C_KHARON_HULL), 3, px, py);
	/* The ferryman: a tall hooded cloak, a pale face, a long pole. */
	int cx[4] = { x + 10, x + 30, x + 26, x + 14 };
	int cy[4] = { y - 2, y - 2, y - 24, y - 24 };
	viz_poly(d, col(fade, VIZ_C_KHARON_CLOAK), 4, cx, cy);
	int ox[6] = { x + 14, x + 20, x + 26, x + 27, x + 20, x + 13 };
	int oy[6] = { y - 24, y - 32, y - 24, y - 20, y - 17, y - 20 };
	viz_poly(d, col(fade, VIZ_C_KHARON_CLOAK), 6, ox, oy);
	viz_rect(d, col(fade, VIZ_C_KHARON_FACE), x + 18, y - 25, 5, 5);
	viz_line(d, col(fade, VIZ_C_POLE), x + 34, y + 14, x + 40, y - 34);
	viz_line(d, col(fade, VIZ_C_POLE), x + 35, y + 14, x + 41, y - 34);
	viz_rect(d, col(fade, VIZ_C_KHARON_CLOAK), x + 26, y - 16, 10, 4);
	viz_text(d, VIZ_C_WHITE, VIZ_FONT_SMALL, VIZ_ALIGN_CENTER, x + 22,
		 y + 10, 0, L(f, "kharon"));
	if (selected)
		viz_frame(d, VIZ_C_HIGHLIGHT, x - 4, y - 36, 54, 50);
}

/* ------------------------------------------------------------ rows */

static void
draw_row(const struct frame *f, int r)
{
	struct viz_display *d = f->d;
	const struct viz_row *w = &f->l->rows[r];
	const struct viz_conn *c = viz_state_conn(f->s, w->conn);
	bool fade = f->ui->focus_conn != 0 && f->ui->focus_conn != c->id;
	const struct viz_layout *l = f->l;
	viz_line(d, VIZ_C_LIVING_EDGE, l->left.x + 4, w->row.y - 2,
		 l->left.x + l->left.w - 4, w->row.y - 2);
	viz_line(d, VIZ_C_DEAD_EDGE, l->right.x + 4, w->row.y - 2,
		 l->right.x + l->right.w - 4, w->row.y - 2);
	bool focus = f->ui->focus_conn == c->id;
	viz_textf(d, col(fade, VIZ_C_INK), VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
		  l->left.x + 6, w->row.y, 0, "%s %d%s   push %u  reply %u%s",
		  L(f, "conn"), c->id, focus ? " *" : "", c->n_pushes,
		  c->n_replies, c->is_tx_gone ? "  (TX: gone)" : "");
	const char *cord = c->cord >= 0 ? f->s->cords[c->cord].name : "?";
	/* What follows the names: requests in flight, closed. */
	char tail[48] = "";
	int n = 0;
	if (c->n_requests > 0)
		n = snprintf(tail, sizeof(tail), "  req %d", c->n_requests);
	if (c->state == VIZ_CONN_CLOSED && n >= 0 && (size_t)n < sizeof(tail))
		snprintf(tail + n, sizeof(tail) - (size_t)n, "  closed");
	char stop[96] = "";
	if (c->is_input_stopped)
		snprintf(stop, sizeof(stop), "%s: %s", L(f, "stopped"),
			 c->stop_why);
	/*
	 * The header and the red stop share the line; in a narrow bank the
	 * peer's address gives way first, then the words, last the requests
	 * in flight (text_w).
	 */
	int room = l->right.w - 12;
	int stop_w = stop[0] != '\0' ?
		     text_w(stop, VIZ_FONT_SMALL) + 14 : 0;
	char head[160];
	snprintf(head, sizeof(head), "%s %d  %s  %s%s", L(f, "conn"), c->id,
		 cord, c->peer, tail);
	if (text_w(head, VIZ_FONT_SMALL) + stop_w > room)
		snprintf(head, sizeof(head), "%s %d  %s%s", L(f, "conn"),
			 c->id, cord, tail);
	if (text_w(head, VIZ_FONT_SMALL) + stop_w > room)
		snprintf(head, sizeof(head), "%d  %s%s", c->id, cord, tail);
	if (text_w(head, VIZ_FONT_SMALL) + stop_w > room)
		snprintf(head, sizeof(head), "%d  %s", c->id, cord);
	if (stop[0] != '\0')
		viz_text(d, VIZ_C_ROLLBACK, VIZ_FONT_SMALL, VIZ_ALIGN_RIGHT,
			 l->right.x + l->right.w - 6, w->row.y, 0, stop);
	viz_text(d, col(fade, VIZ_C_INK), VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
		 l->right.x + 6, w->row.y, 0, head);
	for (int b = 0; b < 2; b++) {
		draw_obuf(f, c, b, &w->obuf[b], fade);
		draw_ibuf(f, c, b, &w->ibuf[b], fade);
	}
	const struct viz_rect *so = &w->socket;
	viz_rect(d, col(fade, VIZ_C_PANEL_EDGE), so->x, so->y, so->w, so->h);
	viz_text(d, VIZ_C_WHITE, VIZ_FONT_SMALL, VIZ_ALIGN_CENTER,
		 so->x + so->w / 2, so->y + 2, 0, "TCP");
	if (c->is_obuf_limit)
		viz_text(d, VIZ_C_ROLLBACK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT,
			 so->x - 40, so->y + so->h + 1, 0, "obuf_limit!");
	draw_flag(f, w, c->kharon.flag, fade);
}

/* ------------------------------------------------------------ boats */

static int
boat_color(const struct viz_boat *b)
{
	if (strncmp(b->f, "tx_", 3) == 0)
		return VIZ_C_BOAT_REQ;
	if (strncmp(b->f, "net_", 4) == 0)
		return VIZ_C_BOAT_REPLY;
	return VIZ_C_BOAT_OTHER;
}

static void
draw_boats(const struct frame *f)
{
	struct viz_display *d = f->d;
	for (int i = 0; i < f->l->n_boats; i++) {
		const struct viz_boat_place *p = &f->l->boats[i];
		if (p->is_kharon || p->is_hidden)
			continue;
		/* The layout keeps the state's order: boats[i] is this one. */
		const struct viz_boat *b = &f->s->boats[i];
		bool fade = f->ui->focus_conn != 0 &&
			    f->ui->focus_conn != p->conn;
		int x = p->x, y = p->y;
		int hx[4] = { x, x + 30, x + 25, x + 5 };
		int hy[4] = { y + 6, y + 6, y + 14, y + 14 };
		viz_poly(d, col(fade, VIZ_C_HULL), 4, hx, hy);
		viz_rect(d, col(fade, boat_color(b)), x + 7, y - 1, 16, 7);
		if (p->n_pile > 1) {
			/* A pile: the first boat's id and how many are there. */
			viz_rect(d, col(fade, VIZ_C_HULL), x + 2, y + 14, 26, 4);
			viz_textf(d, col(fade, VIZ_C_BELL_RUNG), VIZ_FONT_SMALL,
				  VIZ_ALIGN_CENTER, x + 15, y - 14, 0, "%u +%d",
				  p->msg, p->n_pile - 1);
		} else {
			viz_textf(d, col(fade, VIZ_C_WHITE), VIZ_FONT_SMALL,
				  VIZ_ALIGN_CENTER, x + 15, y - 14, 0, "%u",
				  p->msg);
		}
		if (b->is_held) {
			/* What if: held back in its pipe (cmsg.delay). */
			viz_frame(d, col(fade, VIZ_C_FLAG), x - 2, y - 3, 34, 20);
			viz_text(d, col(fade, VIZ_C_WHITE), VIZ_FONT_SMALL,
				 VIZ_ALIGN_CENTER, x + 15, y + 19, 0, L(f, "held"));
		}
		if (f->ui->sel.kind == VIZ_HIT_BOAT &&
		    (uint32_t)f->ui->sel.id == p->msg)
			viz_frame(d, VIZ_C_HIGHLIGHT, x - 3, y - 15, 36, 32);
	}
	for (int r = 0; r < f->l->n_rows; r++) {
		const struct viz_conn *c = viz_state_conn(f->s, f->l->rows[r].conn);
		bool fade = f->ui->focus_conn != 0 &&
			    f->ui->focus_conn != c->id;
		bool sel = f->ui->sel.kind == VIZ_HIT_KHARON &&
			   f->ui->sel.conn == c->id;
		draw_kharon(f, f->l->kharon_x[r], f->l->kharon_y[r], fade, sel);
		for (int i = 0; i < f->s->n_boats; i++)
			if (f->s->boats[i].is_kharon && f->s->boats[i].is_held &&
			    f->s->boats[i].conn == c->id) {
				viz_frame(d, col(fade, VIZ_C_FLAG),
					  f->l->kharon_x[r] - 4,
					  f->l->kharon_y[r] - 36, 54, 62);
				/* Said mid-river, where it is never
				 * cut by a bank. */
				viz_text(d, col(fade, VIZ_C_WHITE),
					 VIZ_FONT_SMALL, VIZ_ALIGN_CENTER,
					 f->l->river.x + f->l->river.w / 2,
					 f->l->kharon_y[r] - 50, 0, L(f, "held"));
			}
		if (is_active(f, VIZ_HIT_KHARON, c->id, -1))
			/* Around the boat and its name. */
			viz_frame(d, VIZ_C_CURSOR, f->l->kharon_x[r] - 6,
				  f->l->kharon_y[r] - 38, 58, 66);
	}
	if (f->l->n_rows_hidden > 0)
		/* At the right end of the tasks strip, clear of the rows and
		 * of the legends. */
		viz_textf(d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_RIGHT,
			  f->l->tasks.x + f->l->tasks.w, f->l->tasks.y + 4, 0,
			  "%s %d", L(f, "more_conns"), f->l->n_rows_hidden);
}

/* ------------------------------------------------------------ clients */

static void
draw_clients(const struct frame *f)
{
	struct viz_display *d = f->d;
	for (int i = 0; i < f->s->n_clients; i++) {
		const struct viz_rect *b = &f->l->client_box[i];
		if (b->w == 0)
			continue;
		const struct viz_client *c = &f->s->clients[i];
		viz_rect(d, VIZ_C_PANEL, b->x, b->y, b->w, b->h);
		viz_frame(d, f->ui->sel.kind == VIZ_HIT_CLIENT &&
			  f->ui->sel.id == i ? VIZ_C_HIGHLIGHT :
			  VIZ_C_PANEL_EDGE, b->x, b->y, b->w, b->h);
		const char *name = c->cord >= 0 ? f->s->cords[c->cord].name :
				   "?";
		viz_textf(d, VIZ_C_INK, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT,
			  b->x + 4, b->y + 2, 0, "%s", name);
		viz_textf(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, b->x + 4,
			  b->y + 20, 0, "> %u  < %u  push %u", c->n_sent,
			  c->n_recv, c->n_pushes);
		const char *st = c->is_closed ? "closed" : c->is_paused ?
				 "paused (slow)" : c->is_connected ? "" : "...";
		viz_text(d, c->is_paused ? VIZ_C_ROLLBACK : VIZ_C_DIM,
			 VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, b->x + 4, b->y + 34, 0,
			 st);
		int my = b->y + b->h / 2;
		int x0 = f->l->right.x + f->l->right.w - 8;
		if (is_recent(f, c->send_ev, 3)) {
			viz_line(d, VIZ_C_BOAT_REQ, b->x - 2, my - 4, x0, my - 4);
			int xs[3] = { x0, x0 + 8, x0 + 8 };
			int ys[3] = { my - 4, my - 8, my };
			viz_poly(d, VIZ_C_BOAT_REQ, 3, xs, ys);
		}
		if (is_recent(f, c->recv_ev, 3)) {
			viz_line(d, VIZ_C_BUF_DATA, x0, my + 4, b->x - 2, my + 4);
			int xs[3] = { b->x - 2, b->x - 10, b->x - 10 };
			int ys[3] = { my + 4, my, my + 8 };
			viz_poly(d, VIZ_C_BUF_DATA, 3, xs, ys);
		}
	}
}

/* ------------------------------------------------------------ caption */

static void
draw_caption(const struct frame *f)
{
	struct viz_display *d = f->d;
	const struct viz_rect *r = &f->l->caption;
	viz_rect(d, VIZ_C_CAPTION_BG, r->x, r->y, r->w, r->h);
	if (f->cur == 0) {
		viz_text(d, VIZ_C_WHITE, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT,
			 r->x + 10, r->y + 16, r->w - 20, L(f, "no_event"));
		return;
	}
	struct viz_event buf;
	const struct trace_event *e = viz_history_event(f->h, f->cur - 1, &buf);
	viz_textf(d, VIZ_C_WAVE, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, r->x + 10,
		  r->y + 3, 0, "#%llu  t=%llu.%06llu ms  %s  %s",
		  (unsigned long long)e->seq,
		  (unsigned long long)(e->t / 1000000),
		  (unsigned long long)(e->t % 1000000), e->cord, e->ev);
	int rule = viz_history_mark(f->h, f->cur - 1);
	if (rule >= 0) {
		/* The checker of `kharon run` found a rule broken here. */
		viz_textf(d, VIZ_C_INVARIANT, VIZ_FONT_NORMAL, VIZ_ALIGN_RIGHT,
			  r->x + r->w - 10, r->y + 1, 0, "%s: %s",
			  L(f, "invariant"), invariant_name((enum invariant)rule));
		viz_frame(d, VIZ_C_INVARIANT, 1, f->l->title.h, f->l->width - 2,
			  f->l->caption.y - f->l->title.h);
		viz_frame(d, VIZ_C_INVARIANT, 2, f->l->title.h + 1,
			  f->l->width - 4, f->l->caption.y - f->l->title.h - 2);
	}
	char text[1024];
	viz_captions_render(f->cap, e, text, sizeof(text));
	viz_text(d, VIZ_C_WHITE, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT, r->x + 10,
		 r->y + 17, r->w - 20, text);
}

/* ------------------------------------------------------------ timeline */

static int
tick_color(const char *ev, int *prio)
{
	if (strncmp(ev, "kharon.", 7) == 0) {
		*prio = 6;
		return VIZ_C_TICK_KHARON;
	}
	if (strncmp(ev, "obuf.", 5) == 0 || strncmp(ev, "port.", 5) == 0 ||
	    strncmp(ev, "push", 4) == 0 || strncmp(ev, "reply.", 6) == 0) {
		*prio = 5;
		return VIZ_C_TICK_OBUF;
	}
	if (strncmp(ev, "task.", 5) == 0 || strncmp(ev, "tx.", 3) == 0) {
		*prio = 4;
		return VIZ_C_TICK_TX;
	}
	if (strncmp(ev, "cpipe.", 6) == 0 || strncmp(ev, "cbus.", 5) == 0 ||
	    strncmp(ev, "cmsg.", 5) == 0) {
		*prio = 2;
		return VIZ_C_TICK_CBUS;
	}
	if (strncmp(ev, "client.", 7) == 0) {
		*prio = 1;
		return VIZ_C_TICK_CLIENT;
	}
	*prio = 3;
	return VIZ_C_TICK_NET;
}

static uint32_t
counter(const struct viz_counters *c, int k)
{
	return k == 0 ? c->ibuf_unparsed : k == 1 ? c->obuf_unsent :
	       k == 2 ? c->boats : c->wakeups;
}

static void
draw_timeline(const struct frame *f)
{
	struct viz_display *d = f->d;
	const struct viz_layout *l = f->l;
	const struct viz_history *h = f->h;
	const struct viz_rect *t = &l->timeline;
	viz_rect(d, VIZ_C_TIMELINE_BG, t->x, t->y, t->w, t->h);
	viz_text(d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, 6, l->ticks.y, 0,
		 L(f, "events"));
	static const char *const names[] = { "unparsed", "unsent", "boats",
					     "wakeups" };
	static const int colors[] = { VIZ_C_PLOT_IBUF, VIZ_C_PLOT_OBUF,
				      VIZ_C_PLOT_BOATS, VIZ_C_PLOT_WAKEUPS };
	for (int k = 0; k < 4; k++)
		viz_text(d, colors[k], VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, 6,
			 l->plot.y + k * 16, 0, L(f, names[k]));
	uint32_t n = h->n_events;
	viz_frame(d, VIZ_C_BUF_EDGE, l->plot.x - 1, l->plot.y - 1,
		  l->plot.w + 2, l->plot.h + 2);
	if (n == 0)
		return;
	const int step = 3;
	for (int x = 0; x < l->ticks.w; x += step) {
		uint32_t lo = (uint32_t)((uint64_t)x * n / (uint64_t)l->ticks.w);
		uint32_t hi = (uint32_t)((uint64_t)(x + step) * n /
					 (uint64_t)l->ticks.w);
		if (hi > n)
			hi = n;
		if (hi <= lo)
			continue;
		uint32_t stride = (hi - lo) / 16 + 1;
		int best = -1, color = VIZ_C_TICK_CLIENT;
		for (uint32_t i = lo; i < hi; i += stride) {
			int prio;
			int c = tick_color(viz_history_name(h, i), &prio);
			if (prio > best) {
				best = prio;
				color = c;
			}
		}
		viz_rect(d, color, l->ticks.x + x, l->ticks.y, 2, l->ticks.h);
	}
	/* Counters over time, each scaled to its own maximum. */
	for (int k = 0; k < 4; k++) {
		uint32_t max = counter(&h->max, k);
		if (max == 0)
			continue;
		int px = -1, py = 0;
		for (int x = 0; x <= l->plot.w; x += 4) {
			uint32_t i = (uint32_t)((uint64_t)x * (n - 1) /
						(uint64_t)l->plot.w);
			uint32_t v = counter(&h->samples[i], k);
			int y = l->plot.y + l->plot.h - 1 -
				(int)((uint64_t)v * (uint64_t)(l->plot.h - 2) /
				      max);
			if (px >= 0)
				viz_line(d, colors[k], l->plot.x + px, py,
					 l->plot.x + x, y);
			px = x;
			py = y;
		}
	}
	/* Events of the selection (or the focused connection). */
	if ((f->ui->sel.kind != VIZ_HIT_NONE || f->ui->focus_conn != 0) &&
	    n <= 200000) {
		int last = -1;
		for (uint32_t i = 0; i < n; i++) {
			if (!viz_ui_is_related(f->ui, h, i))
				continue;
			int x = viz_layout_timeline_x(l, i + 0.5, n);
			if (x == last)
				continue;
			viz_rect(d, VIZ_C_HIGHLIGHT, x, l->ticks.y + l->ticks.h,
				 2, 4);
			last = x;
		}
	}
	for (uint32_t k = 0; k < h->n_marks; k++) {
		int x = viz_layout_timeline_x(l, h->marks[k].ev + 0.5, n);
		viz_rect(d, VIZ_C_INVARIANT, x, t->y + 2, 2, t->h - 4);
	}
	int cx = viz_layout_timeline_x(l, f->ui->pos, n);
	viz_rect(d, VIZ_C_CURSOR, cx - 1, t->y + 2, 2, t->h - 4);
	int xs[3] = { cx - 5, cx + 5, cx };
	int ys[3] = { t->y, t->y, t->y + 6 };
	viz_poly(d, VIZ_C_CURSOR, 3, xs, ys);
}

/* ------------------------------------------------------------ overlays */

static void
draw_title(const struct frame *f, const char *title)
{
	struct viz_display *d = f->d;
	const struct viz_rect *r = &f->l->title;
	viz_rect(d, VIZ_C_CAPTION_BG, r->x, r->y, r->w, r->h);
	const struct viz_ui *ui = f->ui;
	double rate = viz_ui_rate(ui);
	char speed[48];
	if (ui->is_by_time) {
		if (rate >= 1e6)
			snprintf(speed, sizeof(speed), "%.3g ms/s", rate / 1e6);
		else if (rate >= 1e3)
			snprintf(speed, sizeof(speed), "%.3g us/s", rate / 1e3);
		else
			snprintf(speed, sizeof(speed), "%.3g ns/s", rate);
	} else {
		snprintf(speed, sizeof(speed), "%.3g ev/s", rate);
	}
	uint64_t t = f->cur > 0 ? viz_history_time(f->h, f->cur - 1) : 0;
	/* A narrow pane (--compare) names only what it shows, and says
	 * less about playback: the two lines must not overlap. */
	bool narrow = r->w < 1000;
	if (narrow)
		viz_text(d, VIZ_C_WHITE, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT, 8, 4,
			 0, title);
	else
		viz_textf(d, VIZ_C_WHITE, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT, 8,
			  4, 0, "%s  -  %s", L(f, "title"), title);
	if (narrow) {
		viz_textf(d, VIZ_C_BELL_RUNG, VIZ_FONT_NORMAL, VIZ_ALIGN_RIGHT,
			  r->w - 8, 4, 0, "%u/%u  t=%llu.%06llu ms", f->cur,
			  f->h->n_events, (unsigned long long)(t / 1000000),
			  (unsigned long long)(t % 1000000));
		return;
	}
	viz_textf(d, VIZ_C_BELL_RUNG, VIZ_FONT_NORMAL, VIZ_ALIGN_RIGHT,
		  r->w - 8, 4, 0, "%s %u/%u  t=%llu.%06llu ms  %s  %s %s  [%s]",
		  L(f, "events"), f->cur, f->h->n_events,
		  (unsigned long long)(t / 1000000),
		  (unsigned long long)(t % 1000000),
		  ui->is_paused ? L(f, "paused") : L(f, "playing"),
		  ui->is_by_time ? L(f, "by_time") : L(f, "by_event"), speed,
		  viz_lang_name(ui->lang));
}

/** The last related event's string fields (the payload the trace holds). */
static void
last_payload(const struct frame *f, char *out, size_t size)
{
	out[0] = '\0';
	uint32_t stop = f->cur > 20000 ? f->cur - 20000 : 0;
	for (uint32_t i = f->cur; i-- > stop;) {
		if (!viz_ui_is_related(f->ui, f->h, i))
			continue;
		struct viz_event buf;
		const struct trace_event *e = viz_history_event(f->h, i, &buf);
		size_t at = (size_t)snprintf(out, size, "#%llu %s",
					     (unsigned long long)e->seq, e->ev);
		for (int k = 0; k < e->n_fields && at < size; k++)
			at += (size_t)snprintf(out + at, size - at, " %s=%s%lld",
				e->fields[k].key,
				e->fields[k].s != NULL ? e->fields[k].s : "",
				e->fields[k].s != NULL ? 0LL :
				(long long)e->fields[k].i);
		return;
	}
}

static void
inspect_text(const struct frame *f, char *out, size_t size)
{
	const struct viz_hit *sel = &f->ui->sel;
	const struct viz_state *s = f->s;
	const struct viz_conn *c = viz_state_conn(s, sel->conn);
	static const char *const stages[] = { "staged (waits for flush)",
					      "sailing", "docked (fetched)" };
	static const char *const places[] = { "home at TX",
					      "on the river to iproto",
					      "at the iproto bank",
					      "on the river back to TX" };
	switch (sel->kind) {
	case VIZ_HIT_BOAT: {
		const struct viz_boat *b = viz_state_boat(s, (uint32_t)sel->id);
		if (b == NULL) {
			snprintf(out, size, "message %d: not on the river now",
				 sel->id);
			return;
		}
		uint32_t hop = viz_history_link(f->h, b->push_ev);
		snprintf(out, size, "message %u  %s  %s -> %s  %s  conn %d  "
			 "pushed at event %u, delivered at %s%u", b->msg, b->f,
			 b->from >= 0 ? s->cords[b->from].name : "?",
			 b->to >= 0 ? s->cords[b->to].name : "?",
			 b->is_held ? "held back (what if: cmsg.delay)" :
			 stages[b->stage % 3], b->conn, b->push_ev + 1,
			 hop == VIZ_NO_LINK ? "(not yet) " : "",
			 hop == VIZ_NO_LINK ? 0 : hop + 1);
		return;
	}
	case VIZ_HIT_KHARON:
		if (c == NULL)
			break;
		snprintf(out, size, "Kharon of conn %d: %s%s  message %u  "
			 "carries end %lld of obuf %d  trips %u  flags %u",
			 c->id, places[c->kharon.place % 4],
			 c->kharon.flag ? "  FLAG UP" : "", c->kharon.msg,
			 (long long)c->kharon.carry_end, c->kharon.carry_buf,
			 c->kharon.n_trips, c->kharon.n_flags);
		return;
	case VIZ_HIT_OBUF: {
		if (c == NULL)
			break;
		const struct viz_obuf *o = &c->obuf[sel->buf & 1];
		snprintf(out, size, "obuf %d of conn %d: written %lld, sent "
			 "%lld%s%s  reserved %s [%lld, %lld)  chunk %d  resets %u"
			 "  wend %lld in obuf %d", sel->buf, c->id,
			 (long long)o->used, (long long)o->sent,
			 c->obuf_tx == sel->buf ? "  TX writes here" : "",
			 c->obuf_net == sel->buf ? "  net sends from here" : "",
			 o->has_reserve ? "yes" : "no", (long long)o->svp,
			 (long long)(o->svp + o->reserve_size), o->chunk,
			 o->n_resets, (long long)c->wend, c->wend_buf);
		return;
	}
	case VIZ_HIT_IBUF: {
		if (c == NULL)
			break;
		const struct viz_ibuf *ib = &c->ibuf[sel->buf & 1];
		snprintf(out, size, "ibuf %d of conn %d: rpos %lld  wpos %lld  "
			 "end %lld  unparsed %lld  in flight %lld%s  switches %u",
			 sel->buf, c->id, (long long)ib->rpos,
			 (long long)ib->wpos, (long long)ib->end,
			 (long long)(ib->wpos - ib->rpos),
			 (long long)ib->in_flight,
			 c->ibuf_cur == sel->buf ? "  current" : "",
			 c->n_ibuf_switches);
		return;
	}
	case VIZ_HIT_CONN:
		if (c == NULL)
			break;
		snprintf(out, size, "connection %d  peer %s  requests in flight "
			 "%d  pushes %u  replies %u  writev %u  bytes sent %llu",
			 c->id, c->peer, c->n_requests, c->n_pushes,
			 c->n_replies, c->n_writev,
			 (unsigned long long)c->bytes_sent);
		return;
	case VIZ_HIT_CORD: {
		const struct viz_cord *k = &s->cords[sel->id % VIZ_MAX_CORDS];
		snprintf(out, size, "cord %s: woken %u times, fetched %u batches",
			 k->name, k->n_wakeups, k->n_fetches);
		return;
	}
	case VIZ_HIT_CLIENT: {
		const struct viz_client *k = &s->clients[sel->id % VIZ_MAX_CLIENTS];
		snprintf(out, size, "client %d (%s): sent %u (%llu B), received "
			 "%u (%llu B), pushes %u%s", k->id,
			 k->cord >= 0 ? s->cords[k->cord].name : "?", k->n_sent,
			 (unsigned long long)k->bytes_sent, k->n_recv,
			 (unsigned long long)k->bytes_recv, k->n_pushes,
			 k->is_paused ? ", paused" : "");
		return;
	}
	default:
		break;
	}
	snprintf(out, size, "-");
}

static void
draw_inspect(const struct frame *f)
{
	if (f->ui->sel.kind == VIZ_HIT_NONE ||
	    f->ui->sel.kind == VIZ_HIT_TIMELINE)
		return;
	struct viz_display *d = f->d;
	int w = f->l->width * 42 / 100, h = 84;
	int x = f->l->width - w - 6, y = f->l->caption.y - h - 4;
	viz_rect(d, VIZ_C_PANEL, x, y, w, h);
	viz_frame(d, VIZ_C_HIGHLIGHT, x, y, w, h);
	char text[512], payload[384];
	inspect_text(f, text, sizeof(text));
	last_payload(f, payload, sizeof(payload));
	viz_text(d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 6, y + 4,
		 w - 12, text);
	viz_text(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 6, y + 46,
		 w - 12, payload);
}

static void
draw_help(const struct frame *f)
{
	if (!f->ui->is_help)
		return;
	struct viz_display *d = f->d;
	int w = f->l->width * 2 / 3, h = 150;
	int x = (f->l->width - w) / 2, y = f->l->height / 3;
	viz_rect(d, VIZ_C_PANEL, x, y, w, h);
	viz_frame(d, VIZ_C_PANEL_EDGE, x, y, w, h);
	viz_text(d, VIZ_C_INK, VIZ_FONT_BIG, VIZ_ALIGN_LEFT, x + 10, y + 6, 0,
		 "?");
	viz_text(d, VIZ_C_INK, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT, x + 10, y + 34,
		 w - 20, L(f, "help"));
}

/* ------------------------------------------------------------ tour */

static const int highlight_hit[] = {
	[SCENARIO_HIGHLIGHT_NONE] = VIZ_HIT_NONE,
	[SCENARIO_HIGHLIGHT_KHARON] = VIZ_HIT_KHARON,
	[SCENARIO_HIGHLIGHT_BOAT] = VIZ_HIT_BOAT,
	[SCENARIO_HIGHLIGHT_OBUF] = VIZ_HIT_OBUF,
	[SCENARIO_HIGHLIGHT_IBUF] = VIZ_HIT_IBUF,
	[SCENARIO_HIGHLIGHT_CORD] = VIZ_HIT_CORD,
	[SCENARIO_HIGHLIGHT_CLIENT] = VIZ_HIT_CLIENT,
};

/** Does hit `t` show what stop `k` highlights (its event `e`)? */
static bool
is_highlighted(const struct frame *f, int k, const struct trace_event *e,
	       const struct viz_hit *t)
{
	const struct viz_tour *tour = f->ui->tour;
	if (t->kind != highlight_hit[tour->s.tour[k].highlight])
		return false;
	int32_t conn = (int32_t)viz_ev_int(e, "conn", 0);
	switch (t->kind) {
	case VIZ_HIT_BOAT:
		return t->id == tour->msg[k];
	case VIZ_HIT_CORD:
		return t->id >= 0 && t->id < f->s->n_cords &&
		       strcmp(f->s->cords[t->id].name, e->cord) == 0;
	case VIZ_HIT_CLIENT:
		return true;
	default:
		return conn == 0 || t->conn == conn;
	}
}

/**
 * At a tour stop: the highlighted items framed, and the stop's caption in
 * a panel above the caption line, with how to go on.
 */
static void
draw_tour(const struct frame *f)
{
	int k = viz_ui_tour_stop(f->ui);
	if (k < 0 || f->cur == 0)
		return;
	const struct viz_tour *tour = f->ui->tour;
	const struct scenario_tour_stop *st = &tour->s.tour[k];
	struct viz_display *d = f->d;
	struct viz_event buf;
	const struct trace_event *e = viz_history_event(f->h, f->cur - 1, &buf);
	for (int i = 0; i < f->l->n_hits; i++) {
		const struct viz_hit *t = &f->l->hits[i];
		if (st->highlight == SCENARIO_HIGHLIGHT_NONE ||
		    !is_highlighted(f, k, e, t))
			continue;
		viz_frame(d, VIZ_C_HIGHLIGHT, t->r.x - 3, t->r.y - 3,
			  t->r.w + 6, t->r.h + 6);
		viz_frame(d, VIZ_C_HIGHLIGHT, t->r.x - 4, t->r.y - 4,
			  t->r.w + 8, t->r.h + 8);
	}
	char text[2048];
	viz_caption_expand(f->ui->lang == VIZ_LANG_RU ? st->caption.ru :
			   st->caption.en, e, text, sizeof(text));
	int w = f->l->width - 40;
	/* About 7 px a character in the normal font: lines to make room for. */
	int per_line = (w - 20) / 7 > 20 ? (w - 20) / 7 : 20;
	int lines = (int)(strlen(text) / 2 + (size_t)per_line - 1) /
		    per_line + 1;
	int h = 30 + lines * 18;
	if (h > f->l->caption.y - f->l->title.h - 8)
		h = f->l->caption.y - f->l->title.h - 8;
	int x = 20, y = f->l->caption.y - h - 4;
	viz_rect(d, VIZ_C_PANEL, x, y, w, h);
	viz_frame(d, VIZ_C_HIGHLIGHT, x, y, w, h);
	viz_frame(d, VIZ_C_HIGHLIGHT, x + 1, y + 1, w - 2, h - 2);
	viz_textf(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 10, y + 5,
		  0, "%s %d/%u", L(f, "tour_stop"), k + 1, tour->n_stops);
	viz_text(d, VIZ_C_DIM, VIZ_FONT_SMALL, VIZ_ALIGN_RIGHT, x + w - 10,
		 y + 5, 0, L(f, "tour_keys"));
	viz_text(d, VIZ_C_INK, VIZ_FONT_NORMAL, VIZ_ALIGN_LEFT, x + 10, y + 22,
		 w - 20, text);
}

/** A forked run (what if): where it forked, on the timeline. */
static void
draw_fork(const struct frame *f)
{
	if (f->ui->fork_n == 0)
		return;
	int x = viz_layout_timeline_x(f->l, f->ui->fork_n, f->h->n_events);
	const struct viz_rect *t = &f->l->timeline;
	viz_line(f->d, VIZ_C_FLAG, x, t->y, x, t->y + t->h);
	viz_line(f->d, VIZ_C_FLAG, x + 1, t->y, x + 1, t->y + t->h);
	viz_text(f->d, VIZ_C_FLAG, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 4,
		 t->y + 2, 0, L(f, "fork"));
}

/** The what-if menu of a right-clicked client, server cord or boat. */
static void
draw_menu(const struct frame *f)
{
	const struct viz_ui *ui = f->ui;
	if (!ui->is_menu)
		return;
	const struct viz_menu_item *items;
	int n = viz_ui_menu_items(ui->menu_kind, &items);
	int x = ui->menu_x, y = ui->menu_y;
	int h = n * VIZ_MENU_ITEM_H;
	viz_rect(f->d, VIZ_C_PANEL, x, y, VIZ_MENU_W, h);
	viz_frame(f->d, VIZ_C_PANEL_EDGE, x, y, VIZ_MENU_W, h);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			viz_line(f->d, VIZ_C_PANEL_EDGE, x, y + i *
				 VIZ_MENU_ITEM_H, x + VIZ_MENU_W, y + i *
				 VIZ_MENU_ITEM_H);
		viz_text(f->d, VIZ_C_INK, VIZ_FONT_SMALL, VIZ_ALIGN_LEFT, x + 8,
			 y + i * VIZ_MENU_ITEM_H + 4, 0, L(f, items[i].label));
	}
}

void
viz_scene_build(struct viz_display *d, const struct viz_layout *l,
		const struct viz_state *s, const struct viz_history *h,
		const struct viz_ui *ui, const struct viz_captions *cap,
		const char *title)
{
	struct frame f = { d, l, s, h, ui, cap, s->n_events, 0, 0, 0, -1 };
	find_active(&f);
	viz_display_clear(d, l->width, l->height);
	viz_rect(d, VIZ_C_BG, 0, 0, l->width, l->height);
	draw_banks(&f);
	for (int i = 0; i < s->n_cords; i++)
		draw_bell(&f, i);
	draw_tasks(&f);
	draw_legends(&f);
	for (int r = 0; r < l->n_rows; r++)
		draw_row(&f, r);
	draw_boats(&f);
	draw_clients(&f);
	draw_caption(&f);
	draw_timeline(&f);
	draw_title(&f, title);
	draw_fork(&f);
	draw_tour(&f);
	draw_inspect(&f);
	draw_menu(&f);
	draw_help(&f);
}
