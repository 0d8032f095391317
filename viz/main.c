/*
 * main.c — kharon-view: the Styx diagram animated from a trace.
 *
 * Shaped like a raylib example: Initialization (read the trace or run the
 * scenario, open the window or the off-screen surface), then a loop of
 * Update (inputs -> ui, playback tick, follow the file) and Draw (seek the
 * model, layout, scene -> display list -> SDL), then De-initialization.
 * Drawing never changes the model.
 *
 *   kharon-view TRACE [--follow]            replay (or follow) a trace file
 *   kharon-view --scenario FILE [--seed N]  run it on the simulator, show it
 *   --tour                                  ... and follow its guided tour
 *   kharon-view --compare A B [--sync EVENT] two runs side by side (a file
 *                                           ending in .json is a scenario)
 *   --png FILE --at N|EVENT[#K]             headless: one frame
 *   --gif FILE [--from N --to M --fps F --step K]  headless: an animated GIF
 *   --size WxH  --lang ru|en  --script FILE  --captions  --dump-display FILE
 *
 * Exit codes: 0 ok, 1 a runtime failure (no display, a write failed, a
 * --script expectation not met), 2 bad input or usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace.h"
#include "viz/caption.h"
#include "viz/compare.h"
#include "viz/display.h"
#include "viz/draw_sdl.h"
#include "viz/gif.h"
#include "viz/history.h"
#include "viz/layout.h"
#include "viz/model.h"
#include "viz/scene.h"
#include "viz/source.h"
#include "viz/tour.h"
#include "viz/ui.h"
#include "viz/whatif.h"

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage[] =
	"usage: kharon-view TRACE [--follow] | --scenario FILE [--seed N] [--tour]\n"
	"         | --compare A B [--sync EVENT]   (A, B: traces or .json scenarios)\n"
	"         [--lang ru|en] [--size WxH] [--script FILE]\n"
	"         [--png FILE --at N[.F]|EVENT[#K]]\n"
	"         [--gif FILE [--from N] [--to M] [--fps F] [--step K]]\n"
	"         [--captions] [--dump-display FILE --at N|EVENT[#K]]\n"
	"       kharon-view --png-diff A.png B.png\n"
	"       kharon-view TRACE --bench headless|window   (open, seek, draw timings)\n";

struct opts {
	const char *trace;
	const char *scenario;
	bool has_seed;
	uint64_t seed;
	bool follow;
	int lang;
	int width, height;
	const char *png;
	/** --png-diff A B: compare two PNGs (the tests' golden check). */
	const char *png_diff[2];
	const char *gif;
	const char *dump;
	const char *at;
	const char *script;
	bool captions;
	/** --tour: follow the scenario's guided tour (viz/tour.h). */
	bool tour;
	/** --compare A B: two runs side by side (viz/compare.h). */
	const char *compare[2];
	/** --sync EVENT: the panes in step by that event kind (NULL: time). */
	const char *sync;
	/** --bench: figures for make bench; "window" also draws in one. */
	const char *bench;
	long from, to;
	int fps;
	/** --step K: a GIF frame every K events (1: two per event). */
	long step;
};

/** The viewer's whole state: what it shows and how. */
struct viewer {
	struct opts o;
	struct viz_source src;
	struct viz_history hist;
	struct viz_captions *cap[VIZ_LANG_MAX];
	struct viz_ui ui;
	struct viz_state state;
	uint32_t state_n;
	uint32_t state_restarts;
	bool has_state;
	struct viz_layout layout;
	struct viz_display display;
	struct viz_tour tour;
	/** --compare: the second pane (its own source, history, layout). */
	struct viewer *b;
	/** --compare: what each pane's run paid, per prefix (compare.h). */
	struct viz_tally *tally;
	/** --compare: both panes and the strip, the frame drawn. */
	struct viz_display both;
	/** --scenario: the scenario and the interventions added (whatif.h). */
	struct viz_whatif whatif;
	bool has_whatif;
};

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->width = 1280;
	o->height = 720;
	o->from = -1;
	o->to = -1;
	o->fps = 8;
	o->step = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long n;
		if (strcmp(a, "--follow") == 0) {
			o->follow = true;
			continue;
		}
		if (strcmp(a, "--captions") == 0) {
			o->captions = true;
			continue;
		}
		if (strcmp(a, "--tour") == 0) {
			o->tour = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			exit(EXIT_OK);
		}
		if (a[0] != '-') {
			if (o->trace != NULL)
				goto bad;
			o->trace = a;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "kharon-view: %s needs a value\n", a);
			return -1;
		}
		i++;
		if (strcmp(a, "--scenario") == 0) {
			o->scenario = v;
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_long(v, 0, 9007199254740991L, &n) != 0) {
				fprintf(stderr, "kharon-view: --seed %s: want "
					"an integer 0..2^53-1\n", v);
				return -1;
			}
			o->has_seed = true;
			o->seed = (uint64_t)n;
		} else if (strcmp(a, "--lang") == 0) {
			o->lang = viz_lang_parse(v);
			if (o->lang < 0) {
				fprintf(stderr, "kharon-view: --lang %s: want "
					"ru or en\n", v);
				return -1;
			}
		} else if (strcmp(a, "--size") == 0) {
			int w, h;
			char tail;
			if (sscanf(v, "%dx%d%c", &w, &h, &tail) != 2 ||
			    w < 320 || h < 300 || w > 7680 || h > 4320) {
				fprintf(stderr, "kharon-view: --size %s: want "
					"WxH, 320x300 .. 7680x4320\n", v);
				return -1;
			}
			o->width = w;
			o->height = h;
		} else if (strcmp(a, "--bench") == 0) {
			if (strcmp(v, "headless") != 0 && strcmp(v, "window") != 0) {
				fprintf(stderr, "kharon-view: --bench %s: want "
					"headless or window\n", v);
				return -1;
			}
			o->bench = v;
		} else if (strcmp(a, "--png-diff") == 0) {
			if (i + 1 >= argc)
				goto bad;
			o->png_diff[0] = v;
			o->png_diff[1] = argv[++i];
		} else if (strcmp(a, "--compare") == 0) {
			if (i + 1 >= argc)
				goto bad;
			o->compare[0] = v;
			o->compare[1] = argv[++i];
		} else if (strcmp(a, "--sync") == 0) {
			o->sync = v;
		} else if (strcmp(a, "--png") == 0) {
			o->png = v;
		} else if (strcmp(a, "--gif") == 0) {
			o->gif = v;
		} else if (strcmp(a, "--dump-display") == 0) {
			o->dump = v;
		} else if (strcmp(a, "--at") == 0) {
			o->at = v;
		} else if (strcmp(a, "--script") == 0) {
			o->script = v;
		} else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0) {
			if (parse_long(v, 0, 0x7fffffffL, &n) != 0) {
				fprintf(stderr, "kharon-view: %s %s: want an "
					"event number\n", a, v);
				return -1;
			}
			*(strcmp(a, "--from") == 0 ? &o->from : &o->to) = n;
		} else if (strcmp(a, "--step") == 0) {
			if (parse_long(v, 1, 100000, &n) != 0) {
				fprintf(stderr, "kharon-view: --step %s: want "
					"1..100000 events a frame\n", v);
				return -1;
			}
			o->step = n;
		} else if (strcmp(a, "--fps") == 0) {
			if (parse_long(v, 1, 50, &n) != 0) {
				fprintf(stderr, "kharon-view: --fps %s: want "
					"1..50\n", v);
				return -1;
			}
			o->fps = (int)n;
		} else {
			goto bad;
		}
	}
	if (o->png_diff[0] != NULL)
		return 0;
	if (o->compare[0] != NULL) {
		if (o->trace != NULL || o->scenario != NULL || o->follow ||
		    o->tour) {
			fprintf(stderr, "kharon-view: --compare A B shows two "
				"files, without TRACE, --scenario, --follow or "
				"--tour\n");
			return -1;
		}
		return 0;
	}
	if (o->sync != NULL) {
		fprintf(stderr, "kharon-view: --sync goes with --compare\n");
		return -1;
	}
	if ((o->trace == NULL) == (o->scenario == NULL))
		goto bad;
	if ((o->png != NULL || o->dump != NULL) && o->at == NULL) {
		fprintf(stderr, "kharon-view: --png and --dump-display need "
			"--at N\n");
		return -1;
	}
	if (o->tour && o->scenario == NULL) {
		fprintf(stderr, "kharon-view: --tour follows a scenario's "
			"tour: give --scenario FILE\n");
		return -1;
	}
	if (o->follow && o->scenario != NULL) {
		fprintf(stderr, "kharon-view: --follow reads a trace file, "
			"not a scenario\n");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "kharon-view: want one TRACE or --scenario FILE, and "
		"known options (kharon-view --help)\n");
	return -1;
}

/**
 * --at: a number of events 0..n (with a fraction, "175.5": boats half
 * way to the next event), or an event name ("kharon.flag": just after its
 * first occurrence; "kharon.flag#2": after its second).
 */
static int
parse_at(const struct viz_history *h, const char *at, uint32_t *out,
	 double *frac)
{
	long n;
	*frac = 0;
	char *end;
	double d = at[0] >= '0' && at[0] <= '9' ? strtod(at, &end) : -1;
	if (parse_long(at, 0, 0x7fffffffL, &n) == 0 ||
	    (d >= 0 && *end == '\0' && d < 2147483647.0)) {
		if (d >= 0 && *end == '\0') {
			n = (long)d;
			*frac = d - (double)n;
		}
		if ((uint64_t)n > h->n_events ||
		    ((uint64_t)n == h->n_events && *frac > 0)) {
			fprintf(stderr, "kharon-view: --at %s: the trace has "
				"%u events\n", at, h->n_events);
			return -1;
		}
		*out = (uint32_t)n;
		return 0;
	}
	char name[64];
	long nth = 1;
	const char *hash = strchr(at, '#');
	snprintf(name, sizeof(name), "%.*s",
		 (int)(hash != NULL ? hash - at : (long)strlen(at)), at);
	if ((hash != NULL && parse_long(hash + 1, 1, 0x7fffffffL, &nth) != 0) ||
	    name[0] == '\0' || (name[0] >= '0' && name[0] <= '9') ||
	    name[0] == '-') {
		fprintf(stderr, "kharon-view: --at %s: want an event number "
			"or an event name like kharon.flag#2\n", at);
		return -1;
	}
	for (uint32_t i = 0; i < h->n_events; i++) {
		if (strcmp(viz_history_name(h, i), name) == 0 && --nth == 0) {
			*out = i + 1;
			return 0;
		}
	}
	fprintf(stderr, "kharon-view: --at %s: no such event in the trace\n",
		at);
	return -1;
}

/* ------------------------------------------------------------ frames */

/** The model at the ui's position (forward from the last when close). */
static const struct viz_state *
viewer_state(struct viewer *v)
{
	uint32_t n = viz_ui_n(&v->ui);
	if (n > v->hist.n_events)
		n = v->hist.n_events;
	if (v->has_state && v->state_restarts == v->src.n_restarts &&
	    n >= v->state_n && n - v->state_n < VIZ_SNAP_EVERY) {
		struct viz_event buf;
		for (uint32_t i = v->state_n; i < n; i++)
			viz_state_apply(&v->state,
					viz_history_event(&v->hist, i, &buf));
	} else {
		viz_history_seek(&v->hist, n, &v->state);
	}
	v->state_n = n;
	v->state_restarts = v->src.n_restarts;
	v->has_state = true;
	return &v->state;
}

static void
viewer_frame(struct viewer *v)
{
	const struct viz_state *s = viewer_state(v);
	struct viz_clock clock;
	viz_ui_clock(&v->ui, &v->hist, &clock);
	viz_layout_compute(&v->layout, s, &v->hist, &clock, v->ui.width,
			   v->ui.height);
	viz_scene_build(&v->display, &v->layout, s, &v->hist, &v->ui,
			v->cap[v->ui.lang], v->src.title);
}

/**
 * The frame to draw: the scene, or with --compare both panes and the
 * strip, pane B moved to where pane A stands (viz_compare_follow).
 */
static const struct viz_display *
viewer_render(struct viewer *v)
{
	struct viewer *b = v->b;
	if (b == NULL) {
		viewer_frame(v);
		return &v->display;
	}
	int width = v->ui.width, height = v->ui.height;
	int strip = width / 8 > 150 ? width / 8 : 150;
	int pane = (width - strip) / 2;
	v->ui.width = pane;
	viewer_frame(v);
	v->ui.width = width;
	uint32_t na = viz_ui_n(&v->ui);
	if (na > v->hist.n_events)
		na = v->hist.n_events;
	uint32_t nb = viz_compare_follow(&v->hist, na, &b->hist, v->o.sync);
	b->ui = v->ui;
	b->ui.width = pane;
	b->ui.tour = NULL;
	b->ui.is_tour = false;
	memset(&b->ui.sel, 0, sizeof(b->ui.sel));
	viz_ui_seek(&b->ui, &b->hist, nb);
	viewer_frame(b);
	viz_display_clear(&v->both, width, height);
	viz_display_append(&v->both, &v->display, 0, 0);
	viz_compare_strip(&v->both, v->cap[v->ui.lang], pane, 0, strip,
			  height, &v->tally[na], &b->tally[nb], v->o.sync);
	viz_display_append(&v->both, &b->display, pane + strip, 0);
	return &v->both;
}

static int
write_dump(struct viewer *v, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "kharon-view: cannot write %s: %s\n", path,
			strerror(errno));
		return EXIT_FAILED;
	}
	int rc = viz_display_dump(viewer_render(v), f);
	if (f != stdout && fclose(f) != 0)
		rc = -1;
	if (rc != 0) {
		fprintf(stderr, "kharon-view: cannot write %s\n", path);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int
print_captions(struct viewer *v)
{
	char text[1024];
	for (uint32_t i = 0; i < v->hist.n_events; i++) {
		struct viz_event buf;
		const struct trace_event *e = viz_history_event(&v->hist, i, &buf);
		viz_captions_render(v->cap[v->ui.lang], e, text, sizeof(text));
		printf("%llu %s %s: %s\n", (unsigned long long)e->seq, e->cord,
		       e->ev, text);
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

static int
write_png(struct viewer *v, uint32_t at, double frac)
{
	struct viz_sdl *g = viz_sdl_new(v->o.width, v->o.height, true, NULL);
	if (g == NULL) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		return EXIT_FAILED;
	}
	viz_ui_seek(&v->ui, &v->hist, at);
	v->ui.pos = at + frac;
	int rc = viz_sdl_draw(g, viewer_render(v));
	if (rc == 0)
		rc = viz_sdl_save_png(g, v->o.png);
	if (rc != 0)
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
	viz_sdl_delete(g);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/** Centiseconds a tour stop's GIF frame stays: time to read its caption. */
static int
tour_linger(const struct viewer *v, int stop)
{
	const struct scenario_text *c = &v->tour.s.tour[stop].caption;
	size_t len = strlen(v->ui.lang == VIZ_LANG_RU ? c->ru : c->en);
	/* ~25 bytes a second (Cyrillic is two bytes a letter). */
	size_t cs = 200 + len * 4;
	return cs > 2500 ? 2500 : (int)cs;
}

/**
 * The GIF: paced by event, two frames per event (at the event and half
 * way to the next, so boats are seen on the river), the last frame held
 * for two seconds. With --tour, each stop's frame shows its caption panel
 * and highlight and lingers (tour_linger).
 */
static int
write_gif(struct viewer *v)
{
	uint32_t n = v->hist.n_events;
	uint32_t from = v->o.from >= 0 ? (uint32_t)v->o.from : 0;
	uint32_t to = v->o.to >= 0 ? (uint32_t)v->o.to : n;
	if (from > n || to > n || from > to) {
		fprintf(stderr, "kharon-view: --from %u --to %u: the trace has "
			"%u events\n", from, to, n);
		return EXIT_USAGE;
	}
	struct viz_sdl *g = viz_sdl_new(v->o.width, v->o.height, true, NULL);
	if (g == NULL) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		return EXIT_FAILED;
	}
	size_t size = (size_t)v->o.width * (size_t)v->o.height;
	uint8_t *px = mem_alloc(size);
	struct viz_gif *gif = px != NULL ?
		viz_gif_open(v->o.gif, v->o.width, v->o.height) : NULL;
	if (gif == NULL) {
		fprintf(stderr, "kharon-view: %s\n", px == NULL ? "out of memory"
			: diag_msg());
		mem_free(px);
		viz_sdl_delete(g);
		return EXIT_FAILED;
	}
	int delay = 100 / v->o.fps;
	int rc = 0;
	int64_t stray = 0;
	/* --step K > 1: one frame every K events (a long run, a small file),
	 * always ending on `to`. */
	uint32_t step = (uint32_t)v->o.step;
	for (uint32_t k = from * 2; k <= to * 2 && rc == 0;
	     k = step > 1 && k < to * 2 && k + 2 * step > to * 2 ? to * 2 :
		 k + (step > 1 ? 2 * step : 1)) {
		viz_ui_seek(&v->ui, &v->hist, k / 2);
		v->ui.pos = k / 2.0;
		v->ui.focus_conn = 0;
		/* A tour stop: its frame lingers long enough to read. */
		int stop = k % 2 == 0 ? viz_ui_tour_stop(&v->ui) : -1;
		if (stop >= 0)
			viz_ui_tour_go(&v->ui, &v->hist, stop);
		rc = viz_sdl_draw(g, viewer_render(v));
		int64_t s = rc == 0 ? viz_sdl_read_indexed(g, px) : -1;
		if (s < 0)
			rc = -1;
		else
			stray += s;
		if (rc == 0)
			rc = viz_gif_frame(gif, px, stop >= 0 ?
					   tour_linger(v, stop) :
					   k == to * 2 ? 200 : delay);
	}
	if (viz_gif_close(gif) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
	else if (stray != 0)
		fprintf(stderr, "kharon-view: note: %lld pixels were not "
			"palette colours (mapped to the nearest)\n",
			(long long)stray);
	mem_free(px);
	viz_sdl_delete(g);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ------------------------------------------------------------ script */

/**
 * --script: one command per line, run between frames, so injected inputs
 * go through SDL's queue like a user's (the real-window test):
 *   key NAME [shift] [ctrl]   press a key (space left right home end plus
 *                             minus p f l s help esc q enter back t r d w)
 *   down X Y | move X Y | up X Y | click X Y
 *   click-on boat|kharon|obuf|ibuf|cord|client   the centre of the first
 *                             such item on screen now (rclick-on: with the
 *                             right button: a client's, a server cord's
 *                             or a boat's what-if menu)
 *   menu N                    click item N of the open what-if menu
 *   seek-click FRACTION       click the timeline at 0..1 of its width
 *   frames N                  let N frames pass
 *   expect n|paused|lang|help|focus|sel|by_time|speed|width|events|restarts
 *          |tour|tour_on|fork|interventions VALUE (VALUE ">K": greater
 *                             than K; tour: the stop shown, 0-based, -1
 *                             for none; fork: events shown at the fork)
 *   wait-until FIELD VALUE [N] let frames pass until `expect` would hold
 *                             (at most N, 600 by default), else fail
 *   expect-seek               the shown state equals a fresh seek
 *   quit
 */
struct script {
	FILE *f;
	int line;
	int wait;
	bool failed;
	/** wait-until: the condition and the frames left. */
	char until_what[32];
	char until_want[32];
	int until_left;
};

static const char *const key_names[] = {
	[VIZ_KEY_SPACE] = "space", [VIZ_KEY_LEFT] = "left",
	[VIZ_KEY_RIGHT] = "right", [VIZ_KEY_HOME] = "home",
	[VIZ_KEY_END] = "end", [VIZ_KEY_PLUS] = "plus",
	[VIZ_KEY_MINUS] = "minus", [VIZ_KEY_P] = "p", [VIZ_KEY_F] = "f",
	[VIZ_KEY_L] = "l", [VIZ_KEY_S] = "s", [VIZ_KEY_HELP] = "help",
	[VIZ_KEY_ESC] = "esc", [VIZ_KEY_Q] = "q",
	[VIZ_KEY_FULLSCREEN] = "fullscreen", [VIZ_KEY_ENTER] = "enter",
	[VIZ_KEY_BACK] = "back", [VIZ_KEY_T] = "t", [VIZ_KEY_R] = "r",
	[VIZ_KEY_D] = "d", [VIZ_KEY_W] = "w",
};

static const char *const hit_names[] = {
	[VIZ_HIT_NONE] = "none", [VIZ_HIT_BOAT] = "boat",
	[VIZ_HIT_KHARON] = "kharon", [VIZ_HIT_OBUF] = "obuf",
	[VIZ_HIT_IBUF] = "ibuf", [VIZ_HIT_CORD] = "cord",
	[VIZ_HIT_CLIENT] = "client", [VIZ_HIT_CONN] = "conn",
	[VIZ_HIT_TIMELINE] = "timeline",
};

static int
script_fail(struct script *sc, const char *what, const char *want,
	    const char *got)
{
	fprintf(stderr, "kharon-view: --script line %d: %s: expected %s, "
		"got %s\n", sc->line, what, want, got);
	sc->failed = true;
	return -1;
}

static void
push_click(struct viz_sdl *g, int x, int y)
{
	struct viz_input in = { VIZ_IN_DOWN, 0, false, false, x, y, false };
	viz_sdl_push(g, &in);
	in.kind = VIZ_IN_UP;
	viz_sdl_push(g, &in);
}

/** Does `what` hold `want` now? `got` (64 bytes) gets the value seen. */
static int
script_check(struct viewer *v, const char *what, const char *want, char *got)
{
	const struct viz_ui *ui = &v->ui;
	if (strcmp(what, "n") == 0)
		snprintf(got, 64, "%u", viz_ui_n(ui));
	else if (strcmp(what, "paused") == 0)
		snprintf(got, 64, "%d", ui->is_paused);
	else if (strcmp(what, "lang") == 0)
		snprintf(got, 64, "%s", viz_lang_name(ui->lang));
	else if (strcmp(what, "help") == 0)
		snprintf(got, 64, "%d", ui->is_help);
	else if (strcmp(what, "focus") == 0)
		snprintf(got, 64, "%d", ui->focus_conn);
	else if (strcmp(what, "sel") == 0)
		snprintf(got, 64, "%s", hit_names[ui->sel.kind % 9]);
	else if (strcmp(what, "by_time") == 0)
		snprintf(got, 64, "%d", ui->is_by_time);
	else if (strcmp(what, "speed") == 0)
		snprintf(got, 64, "%d", ui->speed_ev);
	else if (strcmp(what, "width") == 0)
		snprintf(got, 64, "%d", ui->width);
	else if (strcmp(what, "events") == 0)
		snprintf(got, 64, "%u", v->hist.n_events);
	else if (strcmp(what, "restarts") == 0)
		snprintf(got, 64, "%u", v->src.n_restarts);
	else if (strcmp(what, "tour") == 0)
		snprintf(got, 64, "%d", viz_ui_tour_stop(ui));
	else if (strcmp(what, "tour_on") == 0)
		snprintf(got, 64, "%d", ui->is_tour);
	else if (strcmp(what, "menu") == 0)
		snprintf(got, 64, "%d", ui->is_menu);
	else if (strcmp(what, "fork") == 0)
		snprintf(got, 64, "%u", ui->fork_n);
	else if (strcmp(what, "interventions") == 0)
		snprintf(got, 64, "%u", v->whatif.s.n_interventions);
	else
		return -1;
	/* ">K": a comparison, for positions that depend on timing. */
	if (want[0] == '>')
		return atol(got) > atol(want + 1) ? 0 : 1;
	return strcmp(got, want) == 0 ? 0 : 1;
}

static int
script_expect(struct viewer *v, struct script *sc, const char *what,
	      const char *want)
{
	char got[64] = "?";
	int rc = script_check(v, what, want, got);
	if (rc < 0)
		return script_fail(sc, what, "a known field", what);
	return rc == 0 ? 0 : script_fail(sc, what, want, got);
}

/** Run script lines until one needs a frame to pass. -1: failed; 1: quit. */
static int
script_step(struct viewer *v, struct script *sc, struct viz_sdl *g)
{
	if (sc->wait > 0) {
		sc->wait--;
		return 0;
	}
	if (sc->until_left > 0) {
		char got[64];
		if (script_check(v, sc->until_what, sc->until_want, got) != 0) {
			if (--sc->until_left == 0)
				return script_expect(v, sc, sc->until_what,
						     sc->until_want);
			return 0;
		}
		sc->until_left = 0;
	}
	char line[256];
	while (fgets(line, sizeof(line), sc->f) != NULL) {
		sc->line++;
		char a[32] = "", b[32] = "", c[32] = "", d[32] = "";
		int n = sscanf(line, "%31s %31s %31s %31s", a, b, c, d);
		if (n <= 0 || a[0] == '#')
			continue;
		if (strcmp(a, "key") == 0) {
			struct viz_input in = { VIZ_IN_KEY, 0, false, false, 0,
						0, false };
			for (int k = 1; k <= VIZ_KEY_W; k++)
				if (key_names[k] != NULL &&
				    strcmp(key_names[k], b) == 0)
					in.key = (uint8_t)k;
			if (in.key == VIZ_KEY_NONE)
				return script_fail(sc, "key", "a key name", b);
			in.is_shift = strcmp(c, "shift") == 0 ||
				      strcmp(d, "shift") == 0;
			in.is_ctrl = strcmp(c, "ctrl") == 0 ||
				     strcmp(d, "ctrl") == 0;
			viz_sdl_push(g, &in);
			return 0;
		}
		if (strcmp(a, "down") == 0 || strcmp(a, "move") == 0 ||
		    strcmp(a, "up") == 0) {
			struct viz_input in = { strcmp(a, "down") == 0 ?
				VIZ_IN_DOWN : strcmp(a, "up") == 0 ? VIZ_IN_UP :
				VIZ_IN_MOTION, 0, false, false, atoi(b), atoi(c),
				false };
			viz_sdl_push(g, &in);
			return 0;
		}
		if (strcmp(a, "click") == 0) {
			push_click(g, atoi(b), atoi(c));
			return 0;
		}
		if (strcmp(a, "menu") == 0) {
			/* Click item N (0-based) of the open what-if menu. */
			if (!v->ui.is_menu)
				return script_fail(sc, "menu", "an open menu",
						   "none");
			push_click(g, v->ui.menu_x + 10, v->ui.menu_y +
				   atoi(b) * VIZ_MENU_ITEM_H + 8);
			return 0;
		}
		if (strcmp(a, "resize") == 0) {
			struct viz_input in = { VIZ_IN_RESIZE, 0, false, false,
						atoi(b), atoi(c), false };
			viz_sdl_push(g, &in);
			sc->wait = 5;
			return 0;
		}
		if (strcmp(a, "seek-click") == 0) {
			const struct viz_rect *t = &v->layout.ticks;
			push_click(g, t->x + (int)(atof(b) * t->w),
				   t->y + t->h / 2);
			return 0;
		}
		if (strcmp(a, "click-on") == 0 || strcmp(a, "rclick-on") == 0) {
			for (int i = 0; i < v->layout.n_hits; i++) {
				const struct viz_hit *t = &v->layout.hits[i];
				if (strcmp(hit_names[t->kind % 9], b) != 0)
					continue;
				int x = t->r.x + t->r.w / 2;
				int y = t->r.y + t->r.h / 2;
				if (a[0] == 'c') {
					push_click(g, x, y);
					return 0;
				}
				struct viz_input in = { VIZ_IN_DOWN, 0, false,
							false, x, y, true };
				viz_sdl_push(g, &in);
				in.kind = VIZ_IN_UP;
				viz_sdl_push(g, &in);
				return 0;
			}
			return script_fail(sc, "click-on", b, "none on screen");
		}
		if (strcmp(a, "frames") == 0) {
			sc->wait = atoi(b);
			return 0;
		}
		if (strcmp(a, "expect") == 0) {
			if (script_expect(v, sc, b, c) != 0)
				return -1;
			continue;
		}
		if (strcmp(a, "wait-until") == 0) {
			snprintf(sc->until_what, sizeof(sc->until_what), "%s", b);
			snprintf(sc->until_want, sizeof(sc->until_want), "%s", c);
			sc->until_left = d[0] != '\0' ? atoi(d) : 600;
			if (sc->until_left <= 0)
				sc->until_left = 1;
			return 0;
		}
		if (strcmp(a, "expect-seek") == 0) {
			struct viz_state *fresh = mem_alloc(sizeof(*fresh));
			if (fresh == NULL)
				return script_fail(sc, "expect-seek", "memory",
						   "none");
			viz_history_seek(&v->hist, v->state_n, fresh);
			bool same = memcmp(fresh, &v->state, sizeof(*fresh)) == 0;
			mem_free(fresh);
			if (!same)
				return script_fail(sc, "expect-seek",
						   "the seek's state",
						   "another state");
			continue;
		}
		if (strcmp(a, "quit") == 0) {
			struct viz_input in = { VIZ_IN_QUIT, 0, false, false,
						0, 0, false };
			viz_sdl_push(g, &in);
			return 0;
		}
		return script_fail(sc, "command", "a script command", a);
	}
	return 0;
}

/* ------------------------------------------------------------ what if */

/**
 * R / D on the selected client (or the only one): add the intervention
 * 1 us after the shown event's time and re-run the scenario; the new run
 * is shown from the same event, the fork marked on the timeline. The tour
 * is dropped: its stops were proven on the original run. Returns 0, or -1
 * when the re-run failed (diag set).
 */
static int
viewer_fork(struct viewer *v, const struct scenario_intervention *iv,
	    uint32_t n);

static int
viewer_delay(struct viewer *v, uint64_t us);
static int
viewer_option(struct viewer *v, int what, uint64_t value);

static int
viewer_intervene(struct viewer *v, int key)
{
	const struct viz_state *st = viewer_state(v);
	int ci = v->ui.sel.kind == VIZ_HIT_CLIENT ? v->ui.sel.id :
		 st->n_clients == 1 ? 0 : -1;
	uint32_t n = viz_ui_n(&v->ui);
	if (!v->has_whatif || ci < 0 || ci >= st->n_clients || n == 0) {
		printf("kharon-view: what if: select a client first (click it), "
		       "in --scenario mode\n");
		return 0;
	}
	const struct viz_client *c = &st->clients[ci];
	const char *name = c->cord >= 0 && c->cord < st->n_cords ?
			   st->cords[c->cord].name : "";
	struct scenario *s = &v->whatif.s;
	struct scenario_intervention iv = { .client = UINT32_MAX,
		.action = SCENARIO_ACTION_DISCONNECT };
	for (uint32_t k = 0; k < s->n_clients; k++)
		if (strcmp(s->clients[k].name, name) == 0)
			iv.client = k;
	if (iv.client == UINT32_MAX) {
		printf("kharon-view: what if: no client %s in %s\n", name,
		       v->whatif.path);
		return 0;
	}
	iv.at_ns = (viz_history_time(&v->hist, n - 1) / 1000 + 1) * 1000;
	if (key == VIZ_KEY_R)
		iv.action = c->is_paused ? SCENARIO_ACTION_RESUME_READING :
			    SCENARIO_ACTION_PAUSE_READING;
	if (viewer_fork(v, &iv, n) != 0)
		return -1;
	printf("kharon-view: what if: %s %s at %llu us; the run forks at "
	       "event %u (%u events now)\n", name,
	       iv.action == SCENARIO_ACTION_PAUSE_READING ? "stops reading" :
	       iv.action == SCENARIO_ACTION_RESUME_READING ? "reads again" :
	       "disconnects", (unsigned long long)(iv.at_ns / 1000), n,
	       v->hist.n_events);
	return 0;
}

/**
 * What if, from a server cord's menu: that cord (tx, net0, ...) is busy for
 * `us` µs from 1 µs after the event shown; re-run and show the fork.
 */
static int
viewer_hold(struct viewer *v, uint64_t us)
{
	const struct viz_state *st = viewer_state(v);
	int k = v->ui.sel.kind == VIZ_HIT_CORD ? v->ui.sel.id : -1;
	uint32_t n = viz_ui_n(&v->ui);
	if (!v->has_whatif || k < 0 || k >= st->n_cords || n == 0 ||
	    (st->cords[k].kind != VIZ_CORD_TX &&
	     st->cords[k].kind != VIZ_CORD_NET)) {
		printf("kharon-view: what if: right-click tx or a net cord, "
		       "in --scenario mode\n");
		return 0;
	}
	struct scenario_intervention iv = { .client = UINT32_MAX,
		.action = SCENARIO_ACTION_HOLD_CORD, .for_ns = us * 1000 };
	snprintf(iv.cord, sizeof(iv.cord), "%s", st->cords[k].name);
	iv.at_ns = (viz_history_time(&v->hist, n - 1) / 1000 + 1) * 1000;
	if (viewer_fork(v, &iv, n) != 0)
		return -1;
	printf("kharon-view: what if: %s is held busy for %llu us at %llu us; "
	       "the run forks at event %u (%u events now)\n", iv.cord,
	       (unsigned long long)us, (unsigned long long)(iv.at_ns / 1000),
	       n, v->hist.n_events);
	return 0;
}

/**
 * What if, from a boat's menu (or Kharon's on the river): its message
 * reaches its endpoint `us` µs later. The intervention names the message
 * as the trace does (msg, to) from the µs of its cpipe.push, so the new run
 * is the same up to the flush of its batch: the fork is there (or at the
 * event shown, while the boat is still staged).
 */
static int
viewer_delay(struct viewer *v, uint64_t us)
{
	const struct viz_state *st = viewer_state(v);
	uint32_t n = viz_ui_n(&v->ui);
	const struct viz_boat *b = NULL;
	if (v->ui.sel.kind == VIZ_HIT_BOAT || v->ui.sel.kind == VIZ_HIT_KHARON)
		for (int i = 0; b == NULL && i < st->n_boats; i++)
			if (st->boats[i].msg == (uint32_t)v->ui.sel.id)
				b = &st->boats[i];
	if (!v->has_whatif || b == NULL || n == 0 || b->to < 0 ||
	    b->to >= st->n_cords || b->msg == 0) {
		printf("kharon-view: what if: right-click a boat on the river, "
		       "in --scenario mode\n");
		return 0;
	}
	struct scenario_intervention iv = { .client = UINT32_MAX,
		.action = SCENARIO_ACTION_DELAY_MESSAGE, .for_ns = us * 1000,
		.msg = b->msg };
	snprintf(iv.to, sizeof(iv.to), "%s", st->cords[b->to].name);
	iv.at_ns = viz_history_time(&v->hist, b->push_ev) / 1000 * 1000;
	uint32_t fork = b->stage == VIZ_BOAT_STAGED ? n : b->flush_ev;
	uint32_t msg = b->msg;
	if (viewer_fork(v, &iv, fork) != 0)
		return -1;
	printf("kharon-view: what if: message %u to %s is delayed by %llu us "
	       "(pushed at %llu us); the run forks at event %u (%u events "
	       "now)\n", msg, iv.to, (unsigned long long)us,
	       (unsigned long long)(iv.at_ns / 1000), fork, v->hist.n_events);
	return 0;
}

/**
 * What if, from a server cord's menu: a server option (net_msg_max or
 * readahead, `what` VIZ_MENU_NET_MSG_MAX / VIZ_MENU_READAHEAD) is `value`
 * from 1 µs after the event shown, set on TX as box.cfg would.
 */
static int
viewer_option(struct viewer *v, int what, uint64_t value)
{
	uint32_t n = viz_ui_n(&v->ui);
	if (!v->has_whatif || n == 0) {
		printf("kharon-view: what if: a server option changes in "
		       "--scenario mode\n");
		return 0;
	}
	struct scenario_intervention iv = { .client = UINT32_MAX,
		.action = SCENARIO_ACTION_SET_OPTION, .value = value,
		.option = what == VIZ_MENU_NET_MSG_MAX ?
			  SCENARIO_OPTION_NET_MSG_MAX :
			  SCENARIO_OPTION_READAHEAD };
	iv.at_ns = (viz_history_time(&v->hist, n - 1) / 1000 + 1) * 1000;
	if (viewer_fork(v, &iv, n) != 0)
		return -1;
	printf("kharon-view: what if: %s = %llu from %llu us on; the run "
	       "forks at event %u (%u events now)\n",
	       what == VIZ_MENU_NET_MSG_MAX ? "net_msg_max" : "readahead",
	       (unsigned long long)value, (unsigned long long)(iv.at_ns / 1000),
	       n, v->hist.n_events);
	return 0;
}

/** Add `iv`, re-run the scenario and show it from event `n`, the fork. */
static int
viewer_fork(struct viewer *v, const struct scenario_intervention *iv,
	    uint32_t n)
{
	struct scenario *s = &v->whatif.s;
	if (viz_whatif_add(&v->whatif, iv) != 0)
		return -1;
	viz_source_close(&v->src);
	memset(&v->src, 0, sizeof(v->src));
	if (viz_history_reset(&v->hist) != 0 ||
	    viz_source_run_scenario(&v->src, s, v->whatif.path, v->o.has_seed,
				    v->o.seed) != 0 ||
	    viz_source_poll(&v->src, &v->hist, 0) < 0)
		return -1;
	v->has_state = false;
	v->ui.tour = NULL;
	v->ui.is_tour = false;
	v->ui.fork_n = n;
	v->whatif.fork_n = n;
	viz_ui_seek(&v->ui, &v->hist, n);
	v->ui.is_paused = true;
	return 0;
}

/** W: the scenario with its interventions, to NAME-what-if-K.json. */
static void
viewer_save(struct viewer *v)
{
	if (!v->has_whatif) {
		printf("kharon-view: W writes a --scenario with its "
		       "interventions\n");
		return;
	}
	char path[128];
	snprintf(path, sizeof(path), "%.60s-what-if-%u.json",
		 v->whatif.s.name, ++v->whatif.n_saved);
	if (viz_whatif_save(&v->whatif, path) == 0)
		printf("kharon-view: wrote %s (%u intervention%s): kharon run "
		       "%s replays it\n", path, v->whatif.s.n_interventions,
		       v->whatif.s.n_interventions == 1 ? "" : "s", path);
	else
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
}

/* ------------------------------------------------------------ window */

static int
run_window(struct viewer *v)
{
	struct viz_sdl *g = viz_sdl_new(v->o.width, v->o.height, false,
					"kharon-view");
	if (g == NULL) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		return EXIT_FAILED;
	}
	struct script sc;
	memset(&sc, 0, sizeof(sc));
	if (v->o.script != NULL) {
		sc.f = fopen(v->o.script, "r");
		if (sc.f == NULL) {
			fprintf(stderr, "kharon-view: --script %s: %s\n",
				v->o.script, strerror(errno));
			viz_sdl_delete(g);
			return EXIT_USAGE;
		}
	}
	if (v->o.follow) {
		v->ui.is_follow = true;
		v->ui.is_paused = false;
	}
	bool fullscreen = false;
	double last = viz_sdl_seconds();
	int rc = EXIT_OK;
	viewer_frame(v);
	while (!v->ui.want_quit) {
		double frame_start = viz_sdl_seconds();
		double dt = frame_start - last;
		last = frame_start;
		/* Update. */
		if (v->o.follow) {
			uint32_t restarts = v->src.n_restarts;
			if (viz_source_poll(&v->src, &v->hist, 200000) < 0) {
				fprintf(stderr, "kharon-view: %s\n", diag_msg());
				rc = EXIT_FAILED;
				break;
			}
			if (restarts != v->src.n_restarts)
				viz_ui_seek(&v->ui, &v->hist, 0);
		}
		struct viz_input in;
		while (viz_sdl_poll(g, &in))
			viz_ui_input(&v->ui, &v->hist, &v->layout, &in);
		if (sc.f != NULL && script_step(v, &sc, g) < 0) {
			rc = EXIT_FAILED;
			break;
		}
		if (v->ui.want_intervene != 0) {
			int key = v->ui.want_intervene;
			v->ui.want_intervene = 0;
			if (viewer_intervene(v, key) != 0) {
				fprintf(stderr, "kharon-view: %s\n", diag_msg());
				rc = EXIT_FAILED;
				break;
			}
		}
		if (v->ui.want_hold_us != 0) {
			uint64_t us = v->ui.want_hold_us;
			v->ui.want_hold_us = 0;
			if (viewer_hold(v, us) != 0) {
				fprintf(stderr, "kharon-view: %s\n", diag_msg());
				rc = EXIT_FAILED;
				break;
			}
		}
		if (v->ui.want_delay_us != 0) {
			uint64_t us = v->ui.want_delay_us;
			v->ui.want_delay_us = 0;
			if (viewer_delay(v, us) != 0) {
				fprintf(stderr, "kharon-view: %s\n", diag_msg());
				rc = EXIT_FAILED;
				break;
			}
		}
		if (v->ui.want_option != 0) {
			int what = v->ui.want_option;
			v->ui.want_option = 0;
			if (viewer_option(v, what, v->ui.want_option_value) != 0) {
				fprintf(stderr, "kharon-view: %s\n", diag_msg());
				rc = EXIT_FAILED;
				break;
			}
		}
		if (v->ui.want_save) {
			v->ui.want_save = false;
			viewer_save(v);
		}
		viz_ui_tick(&v->ui, &v->hist, dt);
		if (v->ui.want_fullscreen != fullscreen) {
			fullscreen = v->ui.want_fullscreen;
			viz_sdl_set_fullscreen(g, fullscreen);
		}
		int w, h;
		viz_sdl_size(g, &w, &h);
		v->ui.width = w;
		v->ui.height = h;
		/* Draw. */
		viz_sdl_draw(g, viewer_render(v));
		if (v->ui.want_screenshot) {
			v->ui.want_screenshot = false;
			char path[64];
			snprintf(path, sizeof(path), "kharon-view-%u.png",
				 viz_ui_n(&v->ui));
			if (viz_sdl_save_png(g, path) == 0)
				printf("kharon-view: screenshot %s\n", path);
			else
				fprintf(stderr, "kharon-view: %s\n", diag_msg());
		}
		int spent = (int)((viz_sdl_seconds() - frame_start) * 1000);
		viz_sdl_wait(g, 16 - spent);
	}
	if (sc.f != NULL) {
		if (sc.failed)
			rc = EXIT_FAILED;
		fclose(sc.f);
	}
	viz_sdl_delete(g);
	return rc;
}

/* ------------------------------------------------------------ bench */

/**
 * --bench headless|window: the viewer's figures for `make bench` (never a
 * test): open time (read + model + checker, measured by main), memory per
 * event, seek time, and frames per second drawing the scene while playing
 * (off-screen, or in a real window with no frame cap).
 */
static int
run_bench(struct viewer *v, double open_s)
{
	uint32_t n = v->hist.n_events;
	printf("view_events %u\n", n);
	printf("view_open_s %.3f\n", open_s);
	printf("view_bytes_per_event %.1f\n",
	       n > 0 ? (double)viz_history_bytes(&v->hist) / n : 0.0);
	uint64_t x = 88172645463325252ULL;
	double worst = 0, sum = 0;
	enum { SEEKS = 200 };
	for (int i = 0; i < SEEKS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t at = n > 0 ? (uint32_t)(x % (n + 1)) : 0;
		double t0 = viz_sdl_seconds();
		viz_history_seek(&v->hist, at, &v->state);
		double dt = viz_sdl_seconds() - t0;
		sum += dt;
		if (dt > worst)
			worst = dt;
	}
	printf("view_seek_ms_avg %.3f\nview_seek_ms_max %.3f\n",
	       sum / SEEKS * 1e3, worst * 1e3);
	bool window = strcmp(v->o.bench, "window") == 0;
	struct viz_sdl *g = viz_sdl_new(v->o.width, v->o.height, !window,
					"kharon-view bench");
	if (g == NULL) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		return EXIT_FAILED;
	}
	/* Play from the middle at 60 events per second of frames. */
	viz_ui_seek(&v->ui, &v->hist, n / 2);
	v->ui.is_paused = false;
	v->ui.speed_ev = 12;
	int frames = 0;
	double t0 = viz_sdl_seconds(), t = t0;
	while (t - t0 < 3.0) {
		struct viz_input in;
		while (viz_sdl_poll(g, &in))
			;
		viz_ui_tick(&v->ui, &v->hist, 1.0 / 60);
		if (v->ui.is_paused)
			viz_ui_seek(&v->ui, &v->hist, n / 2), v->ui.is_paused = false;
		viewer_frame(v);
		viz_sdl_draw(g, &v->display);
		frames++;
		t = viz_sdl_seconds();
	}
	printf("view_fps_%s_%dx%d %.1f\n", window ? "window" : "offscreen",
	       v->o.width, v->o.height, frames / (t - t0));
	viz_sdl_delete(g);
	return EXIT_OK;
}

/* ------------------------------------------------------------ main */

/**
 * --png-diff A B: 0 when at most 0.5 % of the pixels differ by more than
 * 16 in a channel (a font or renderer update may move a few glyph pixels),
 * 1 otherwise, 2 when a file cannot be read or the sizes differ.
 */
static int
png_diff(const char *a, const char *b)
{
	int64_t total = 0;
	int64_t n = viz_sdl_png_diff(a, b, 16, &total);
	if (n < 0) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		return EXIT_USAGE;
	}
	printf("png-diff: %lld of %lld pixels differ\n", (long long)n,
	       (long long)total);
	return n * 200 <= total ? EXIT_OK : EXIT_FAILED;
}

/**
 * Open one pane's events: trace file `trace` (followed with --follow) or
 * scenario `scenario` run on the simulator. Returns 0, or -1 after the
 * one-line error (nothing left to close).
 */
static int
viewer_open(struct viewer *v, const char *trace, const char *scenario)
{
	viz_display_create(&v->display);
	viz_display_create(&v->both);
	if (viz_history_create(&v->hist) != 0) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		return -1;
	}
	int rc = scenario != NULL ?
		 viz_source_open_scenario(&v->src, scenario, v->o.has_seed,
					  v->o.seed) :
		 viz_source_open_trace(&v->src, trace, v->o.follow);
	if (rc == 0 && viz_source_poll(&v->src, &v->hist, 0) < 0)
		rc = -1;
	if (rc != 0) {
		fprintf(stderr, "kharon-view: %s\n", diag_msg());
		viz_source_close(&v->src);
		viz_history_destroy(&v->hist);
		return -1;
	}
	return 0;
}

/** Free what viewer_open and the run made (not the shared captions). */
static void
viewer_close(struct viewer *v)
{
	viz_display_destroy(&v->display);
	viz_display_destroy(&v->both);
	viz_tour_destroy(&v->tour);
	mem_free(v->tally);
	v->tally = NULL;
	viz_whatif_destroy(&v->whatif);
	viz_source_close(&v->src);
	viz_history_destroy(&v->hist);
}

int
main(int argc, char **argv)
{
	static struct viewer v;
	if (parse_opts(argc, argv, &v.o) != 0)
		return EXIT_USAGE;
	if (v.o.png_diff[0] != NULL)
		return png_diff(v.o.png_diff[0], v.o.png_diff[1]);
	for (int l = 0; l < VIZ_LANG_MAX; l++) {
		v.cap[l] = viz_captions_builtin(l);
		if (v.cap[l] == NULL) {
			fprintf(stderr, "kharon-view: %s\n", diag_msg());
			return EXIT_FAILED;
		}
	}
	if (v.o.compare[0] != NULL) {
		const char *a = v.o.compare[0];
		size_t len = strlen(a);
		*(len > 5 && strcmp(a + len - 5, ".json") == 0 ?
		  &v.o.scenario : &v.o.trace) = a;
	}
	double open_t0 = viz_sdl_seconds();
	if (viewer_open(&v, v.o.trace, v.o.scenario) != 0)
		return EXIT_USAGE;
	if (v.o.compare[1] != NULL) {
		static struct viewer second;
		const char *b = v.o.compare[1];
		size_t len = strlen(b);
		bool is_json = len > 5 && strcmp(b + len - 5, ".json") == 0;
		second.o = v.o;
		second.o.follow = false;
		memcpy(second.cap, v.cap, sizeof(second.cap));
		if (viewer_open(&second, is_json ? NULL : b,
				is_json ? b : NULL) != 0) {
			viewer_close(&v);
			return EXIT_USAGE;
		}
		if (viz_tally_build(&v.hist, &v.tally) != 0 ||
		    viz_tally_build(&second.hist, &second.tally) != 0) {
			fprintf(stderr, "kharon-view: %s\n", diag_msg());
			viewer_close(&second);
			viewer_close(&v);
			return EXIT_FAILED;
		}
		viz_ui_init(&second.ui, v.o.width, v.o.height, v.o.lang);
		/* Each pane says which it is. */
		char title[256];
		snprintf(title, sizeof(title), "A: %.200s", v.src.title);
		snprintf(v.src.title, sizeof(v.src.title), "%s", title);
		snprintf(title, sizeof(title), "B: %.200s", second.src.title);
		snprintf(second.src.title, sizeof(second.src.title), "%s", title);
		v.b = &second;
	}
	double open_s = viz_sdl_seconds() - open_t0;
	viz_ui_init(&v.ui, v.o.width, v.o.height, v.o.lang);
	if (v.o.tour) {
		if (viz_tour_load(&v.tour, v.o.scenario, &v.hist) != 0) {
			fprintf(stderr, "kharon-view: %s\n", diag_msg());
			viewer_close(&v);
			return EXIT_USAGE;
		}
		v.ui.tour = &v.tour;
		v.ui.is_tour = true;
	}
	if (v.o.scenario != NULL && v.b == NULL) {
		/* Loads again what the source ran: cheap, and kept whole. */
		if (viz_whatif_load(&v.whatif, v.o.scenario) != 0) {
			fprintf(stderr, "kharon-view: %s\n", diag_msg());
			viewer_close(&v);
			return EXIT_USAGE;
		}
		v.has_whatif = true;
	}
	int rc = EXIT_OK;
	uint32_t at = 0;
	double frac = 0;
	if (v.o.at != NULL && parse_at(&v.hist, v.o.at, &at, &frac) != 0) {
		rc = EXIT_USAGE;
	} else if (v.o.bench != NULL) {
		rc = run_bench(&v, open_s);
	} else if (v.o.captions) {
		rc = print_captions(&v);
	} else if (v.o.dump != NULL || v.o.png != NULL || v.o.gif != NULL) {
		rc = EXIT_OK;
		if (v.o.dump != NULL) {
			viz_ui_seek(&v.ui, &v.hist, at);
			v.ui.pos = at + frac;
			rc = write_dump(&v, v.o.dump);
		}
		if (rc == EXIT_OK && v.o.png != NULL)
			rc = write_png(&v, at, frac);
		if (rc == EXIT_OK && v.o.gif != NULL)
			rc = write_gif(&v);
	} else {
		viz_ui_seek(&v.ui, &v.hist, at);
		rc = run_window(&v);
	}
	if (v.b != NULL)
		viewer_close(v.b);
	viewer_close(&v);
	for (int l = 0; l < VIZ_LANG_MAX; l++)
		viz_captions_delete(v.cap[l]);
	return rc;
}
