/*
 * layout.c — the Styx diagram's geometry (see layout.h).
 */
#include "viz/layout.h"

#include <string.h>

#include "trace/trace.h"
#include "viz/history.h"

enum {
	TITLE_H = 26,
	CAPTION_H = 52,
	TIMELINE_H = 112,
	HEADER_H = 46,
	STRIP_H = 26,
	ROW_MIN = 58,
	/**
	 * The legends' band under the rows: two lines of small text, three
	 * in a window narrower than LEGEND_WIDE_W, where Russian's labels
	 * wrap once more (scene.c, legend()).
	 */
	LEGEND_H = 34,
	LEGEND_H_NARROW = 50,
	LEGEND_WIDE_W = 800,
	ROW_MAX = 240,
	BOAT_W = 30,
	BOAT_H = 14,
	KHARON_W = 44,
	CLIENT_H = 58,
};

static int
min_int(int a, int b)
{
	return a < b ? a : b;
}

static int
clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int
viz_layout_byte_x(const struct viz_rect *r, int64_t pos, int64_t cap)
{
	if (cap <= 0)
		return r->x;
	if (pos < 0)
		pos = 0;
	if (pos > cap)
		pos = cap;
	return r->x + (int)((double)pos * r->w / (double)cap + 0.5);
}

static int64_t
pow2_at_least(int64_t v, int64_t floor)
{
	int64_t p = floor;
	while (p < v && p < ((int64_t)1 << 40))
		p *= 2;
	return p;
}

int64_t
viz_layout_obuf_cap(const struct viz_conn *c)
{
	int64_t m = 0;
	for (int b = 0; b < 2; b++) {
		if (c->obuf[b].used > m)
			m = c->obuf[b].used;
		if (c->obuf[b].sent > m)
			m = c->obuf[b].sent;
		if (c->obuf[b].rollback_ev != 0 && c->obuf[b].rollback_from > m)
			m = c->obuf[b].rollback_from;
	}
	if (c->wend > m)
		m = c->wend;
	return pow2_at_least(m, 256);
}

int64_t
viz_layout_ibuf_cap(const struct viz_conn *c)
{
	int64_t end = c->ibuf[0].end > c->ibuf[1].end ? c->ibuf[0].end :
		      c->ibuf[1].end;
	int64_t data = c->ibuf[0].wpos > c->ibuf[1].wpos ? c->ibuf[0].wpos :
		       c->ibuf[1].wpos;
	if (data > end)
		end = data;
	/*
	 * A 16 KB buffer holding 32 bytes would be an empty bar: then the
	 * bar is a window on the first bytes (still one scale for all of
	 * them), and the scene writes where the memory ends.
	 */
	if (data * 16 < end) {
		int64_t w = pow2_at_least(data * 4, 256);
		return w < end ? w : end;
	}
	return end > 0 ? end : 1;
}

static void
add_hit(struct viz_layout *l, int kind, int x, int y, int w, int h, int32_t id,
	int32_t conn, int buf)
{
	if (l->n_hits == VIZ_MAX_HITS)
		return;
	struct viz_hit *t = &l->hits[l->n_hits++];
	t->r.x = x;
	t->r.y = y;
	t->r.w = w;
	t->r.h = h;
	t->kind = (uint8_t)kind;
	t->id = id;
	t->conn = conn;
	t->buf = (int8_t)buf;
}

/** 0..1: how far a sailing boat is across, by the clock. */
static double
boat_progress(const struct viz_boat *b, const struct viz_history *h,
	      const struct viz_clock *clk)
{
	if (b->stage == VIZ_BOAT_STAGED)
		return 0.0;
	if (b->stage == VIZ_BOAT_DOCKED)
		return 1.0;
	uint32_t hop = h != NULL ? viz_history_link(h, b->push_ev) :
		       VIZ_NO_LINK;
	if (hop == VIZ_NO_LINK)
		return 0.5;
	double a, z;
	if (clk->is_by_time) {
		a = (double)viz_history_time(h, b->flush_ev);
		z = (double)viz_history_time(h, hop);
	} else {
		a = (double)b->flush_ev + 1.0;
		z = (double)hop + 1.0;
	}
	if (z <= a)
		return 0.5;
	double p = (clk->now - a) / (z - a);
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

static int
row_of(const struct viz_layout *l, int32_t conn)
{
	for (int i = 0; i < l->n_rows; i++)
		if (l->rows[i].conn == conn)
			return i;
	return -1;
}

static void
layout_rows(struct viz_layout *l, const struct viz_state *s, int top,
	    int bottom)
{
	/* Connections in id order, so rows do not jump when slots reuse. */
	int order[VIZ_MAX_CONNS];
	int n = 0;
	for (int i = 0; i < VIZ_MAX_CONNS; i++) {
		if (s->conns[i].state == VIZ_CONN_FREE)
			continue;
		int k = n++;
		while (k > 0 && s->conns[order[k - 1]].id > s->conns[i].id) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
	}
	int avail = bottom - top;
	int fit = avail / ROW_MIN;
	if (fit < 1)
		fit = 1;
	l->n_rows = n < fit ? n : fit;
	l->n_rows_hidden = n - l->n_rows;
	if (l->n_rows == 0)
		return;
	int rh = clampi(avail / l->n_rows, ROW_MIN, ROW_MAX);
	int bh = clampi((rh - 16 - 40) / 2, 8, 40);
	for (int r = 0; r < l->n_rows; r++) {
		const struct viz_conn *c = &s->conns[order[r]];
		struct viz_row *w = &l->rows[r];
		w->conn = c->id;
		w->row = (struct viz_rect){ l->left.x, top + r * rh,
					    l->right.x + l->right.w - l->left.x,
					    rh - 4 };
		/* In a tight row (rh near ROW_MIN) the second buffer's label
		 * must end above the next row's line: at most rh - 46. */
		int y0 = w->row.y + min_int(18 + (rh - 16 - 40 - 2 * bh) / 4,
					    rh - 46);
		int bx = l->left.x + 62;
		int bw = l->left.w - 62 - 40;
		for (int b = 0; b < 2; b++) {
			w->obuf[b] = (struct viz_rect){ bx, y0 + b * (bh + 14),
							bw, bh };
			add_hit(l, VIZ_HIT_OBUF, bx - 56, w->obuf[b].y - 2,
				bw + 56, bh + 12, c->id, c->id, b);
		}
		int ix = l->right.x + 52;
		int iw = l->right.w - 52 - 50;
		for (int b = 0; b < 2; b++) {
			w->ibuf[b] = (struct viz_rect){ ix, y0 + b * (bh + 14),
							iw, bh };
			add_hit(l, VIZ_HIT_IBUF, ix - 48, w->ibuf[b].y - 2,
				iw + 48, bh + 12, c->id, c->id, b);
		}
		w->socket = (struct viz_rect){ l->right.x + l->right.w - 40, y0,
					       30, 2 * bh + 14 };
		w->home_x = l->river.x + 4;
		w->there_x = l->river.x + l->river.w - 4 - KHARON_W;
		w->flag_x = l->left.x + l->left.w - 22;
		w->lane_out_y = w->row.y + rh / 3;
		w->lane_back_y = w->row.y + (2 * rh) / 3;
		add_hit(l, VIZ_HIT_CONN, l->left.x + 4, w->row.y, 120, 14, c->id,
			c->id, -1);
	}
}

static void
layout_boats(struct viz_layout *l, const struct viz_state *s,
	     const struct viz_history *h, const struct viz_clock *clk)
{
	l->n_boats = 0;
	int span = l->river.w - 16 - BOAT_W;
	for (int i = 0; i < s->n_boats; i++) {
		const struct viz_boat *b = &s->boats[i];
		struct viz_boat_place *p = &l->boats[l->n_boats++];
		p->msg = b->msg;
		p->conn = b->conn;
		p->is_kharon = b->is_kharon;
		p->is_out = b->from >= 0 &&
			    s->cords[b->from].kind == VIZ_CORD_TX;
		if (b->from >= 0 && s->cords[b->from].kind == VIZ_CORD_NET)
			p->is_out = false;
		p->p = boat_progress(b, h, clk);
		int r = row_of(l, b->conn);
		int dx = (int)(p->p * span + 0.5);
		p->x = p->is_out ? l->river.x + 8 + dx :
		       l->river.x + l->river.w - 8 - BOAT_W - dx;
		if (r < 0)
			p->y = l->lane_misc_y + (p->is_out ? -8 : 8);
		else
			p->y = p->is_out ? l->rows[r].lane_out_y :
			       l->rows[r].lane_back_y;
		p->y -= BOAT_H / 2;
		/*
		 * Boats at the same spot make one pile, drawn once with its
		 * count (a hundred per-push messages waiting at a dock).
		 */
		p->n_pile = 1;
		int stack = 0;
		struct viz_boat_place *first = NULL;
		for (int k = 0; k < l->n_boats - 1; k++) {
			struct viz_boat_place *q = &l->boats[k];
			if (q->is_kharon || q->is_hidden || p->is_kharon ||
			    q->is_out != p->is_out || q->conn != p->conn ||
			    q->x - p->x >= BOAT_W / 2 || p->x - q->x >= BOAT_W / 2)
				continue;
			if (first == NULL)
				first = q;
			stack++;
		}
		if (stack >= 1) {
			p->is_hidden = true;
			first->n_pile++;
			continue;
		}
		if (!p->is_kharon)
			add_hit(l, VIZ_HIT_BOAT, p->x, p->y, BOAT_W, BOAT_H,
				(int32_t)b->msg, b->conn, -1);
	}
}

static void
layout_kharon(struct viz_layout *l, const struct viz_state *s)
{
	for (int r = 0; r < l->n_rows; r++) {
		const struct viz_conn *c = viz_state_conn(s, l->rows[r].conn);
		const struct viz_row *w = &l->rows[r];
		int x = w->home_x;
		int y = w->row.y + w->row.h / 2;
		if (c->kharon.place == VIZ_KHARON_THERE) {
			x = w->there_x;
		} else if (c->kharon.place != VIZ_KHARON_HOME) {
			x = c->kharon.place == VIZ_KHARON_OUT ? w->home_x :
			    w->there_x;
			for (int i = 0; i < l->n_boats; i++) {
				const struct viz_boat_place *p = &l->boats[i];
				if (!p->is_kharon || p->msg != c->kharon.msg)
					continue;
				int span = w->there_x - w->home_x;
				int dx = (int)(p->p * span + 0.5);
				x = p->is_out ? w->home_x + dx :
				    w->there_x - dx;
			}
		}
		l->kharon_x[r] = x;
		l->kharon_y[r] = y;
		add_hit(l, VIZ_HIT_KHARON, x, y - 30, KHARON_W, 44,
			(int32_t)c->kharon.msg, c->id, -1);
	}
}

void
viz_layout_compute(struct viz_layout *l, const struct viz_state *s,
		   const struct viz_history *h, const struct viz_clock *clock,
		   int width, int height)
{
	memset(l, 0, sizeof(*l));
	l->width = width;
	l->height = height;
	l->title = (struct viz_rect){ 0, 0, width, TITLE_H };
	int main_top = TITLE_H;
	int main_bottom = height - CAPTION_H - TIMELINE_H - 4;
	int legend_h = width < LEGEND_WIDE_W ? LEGEND_H_NARROW : LEGEND_H;
	if (main_bottom < main_top + HEADER_H + STRIP_H + ROW_MIN + legend_h)
		main_bottom = main_top + HEADER_H + STRIP_H + ROW_MIN +
			      legend_h;
	int mh = main_bottom - main_top;
	int lw = width * 38 / 100;
	int rw = width * 18 / 100;
	int dw = width * 28 / 100;
	l->left = (struct viz_rect){ 0, main_top, lw, mh };
	l->river = (struct viz_rect){ lw, main_top, rw, mh };
	l->right = (struct viz_rect){ lw + rw, main_top, dw, mh };
	l->clients = (struct viz_rect){ lw + rw + dw, main_top,
					width - lw - rw - dw, mh };
	l->caption = (struct viz_rect){ 0, main_bottom, width, CAPTION_H };
	l->timeline = (struct viz_rect){ 0, main_bottom + CAPTION_H, width,
					 height - main_bottom - CAPTION_H };
	l->ticks = (struct viz_rect){ 128, l->timeline.y + 6, width - 138, 14 };
	l->plot = (struct viz_rect){ 128, l->timeline.y + 24, width - 138,
				     l->timeline.h - 30 };
	add_hit(l, VIZ_HIT_TIMELINE, l->ticks.x, l->timeline.y, l->ticks.w,
		l->timeline.h, 0, 0, -1);
	int strip_y = main_top + HEADER_H;
	l->tasks = (struct viz_rect){ 8, strip_y, lw - 16, STRIP_H - 4 };
	l->lane_misc_y = strip_y + STRIP_H / 2;
	/* Cords: TX's bell on its bank, the network cords' on theirs. */
	int n_net = 0;
	for (int i = 0; i < s->n_cords; i++) {
		const struct viz_cord *c = &s->cords[i];
		struct viz_rect *b = &l->cord_bell[i];
		if (c->kind == VIZ_CORD_TX) {
			*b = (struct viz_rect){ lw - 84, main_top + 6, 78, 20 };
		} else if (c->kind == VIZ_CORD_NET) {
			*b = (struct viz_rect){ lw + rw + 6 + n_net * 70,
						strip_y, 64, 20 };
			n_net++;
		} else {
			continue;
		}
		add_hit(l, VIZ_HIT_CORD, b->x, b->y, b->w, b->h, i, 0, -1);
	}
	int n_cl = 0;
	for (int i = 0; i < s->n_clients; i++) {
		int y = strip_y + n_cl * CLIENT_H;
		if (y + CLIENT_H - 4 > main_bottom)
			break;
		l->client_box[i] = (struct viz_rect){ l->clients.x + 8, y,
						      l->clients.w - 14,
						      CLIENT_H - 6 };
		add_hit(l, VIZ_HIT_CLIENT, l->clients.x + 8, y,
			l->clients.w - 14, CLIENT_H - 6, i, 0, -1);
		n_cl++;
	}
	layout_rows(l, s, strip_y + STRIP_H, main_bottom - legend_h);
	layout_boats(l, s, h, clock);
	layout_kharon(l, s);
}

const struct viz_hit *
viz_layout_hit(const struct viz_layout *l, int x, int y)
{
	/* Later regions are drawn on top: search from the end. */
	for (int i = l->n_hits - 1; i >= 0; i--) {
		const struct viz_hit *t = &l->hits[i];
		if (x >= t->r.x && x < t->r.x + t->r.w && y >= t->r.y &&
		    y < t->r.y + t->r.h)
			return t;
	}
	return NULL;
}

uint32_t
viz_layout_timeline_event(const struct viz_layout *l, int x, uint32_t n)
{
	if (n == 0 || l->ticks.w <= 0)
		return 0;
	double f = (double)(x - l->ticks.x) / l->ticks.w;
	f = f < 0 ? 0 : f > 1 ? 1 : f;
	return (uint32_t)(f * n + 0.5);
}

int
viz_layout_timeline_x(const struct viz_layout *l, double pos, uint32_t n)
{
	if (n == 0)
		return l->ticks.x;
	double f = pos / n;
	f = f < 0 ? 0 : f > 1 ? 1 : f;
	return l->ticks.x + (int)(f * l->ticks.w + 0.5);
}
