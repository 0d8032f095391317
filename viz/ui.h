/*
 * ui.h — the viewer's controls as plain state: where playback stands, how
 * fast and by what it is paced, what is selected or in focus, which
 * language, which overlay. Inputs arrive as back-end-neutral events
 * (draw_sdl.c translates SDL's), so every control is testable without a
 * window. Controls follow RaftScope (the time slider pauses while dragged,
 * a log speed scale) and nam (space plays, arrows step one event).
 *
 *   key/mouse --viz_ui_input--> ui --viz_ui_tick(dt)--> pos --> history seek
 *
 * Position: `pos` is a fractional event index in [0, n_events]; the scene
 * shows the state after floor(pos) events. Paced by event, pos moves at
 * `2^(speed_ev/2)` events per second (every event gets screen time, what a
 * classroom needs when a thousand events share one microsecond); paced by
 * time, a clock `t_now` moves at `2^(speed_t/2)` ns per second and pos
 * follows the events stamped up to it.
 */
#ifndef KHARON_VIZ_UI_H
#define KHARON_VIZ_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "viz/layout.h"

struct viz_history;
struct viz_tour;

enum viz_key {
	VIZ_KEY_NONE,
	VIZ_KEY_SPACE,
	VIZ_KEY_LEFT,
	VIZ_KEY_RIGHT,
	VIZ_KEY_HOME,
	VIZ_KEY_END,
	VIZ_KEY_PLUS,
	VIZ_KEY_MINUS,
	VIZ_KEY_P,
	VIZ_KEY_F,
	VIZ_KEY_L,
	VIZ_KEY_S,
	VIZ_KEY_HELP,
	VIZ_KEY_ESC,
	VIZ_KEY_Q,
	VIZ_KEY_FULLSCREEN,
	/** Tour: Enter continues like space, Backspace goes to the previous
	 * stop, T turns the tour on and off. */
	VIZ_KEY_ENTER,
	VIZ_KEY_BACK,
	VIZ_KEY_T,
	/** What if (--scenario): R the selected client stops or resumes
	 * reading, D it disconnects now, W writes the forked scenario (the
	 * right-click menus do these and more). */
	VIZ_KEY_R,
	VIZ_KEY_D,
	VIZ_KEY_W,
};

enum viz_input_kind {
	VIZ_IN_KEY,
	VIZ_IN_DOWN,
	VIZ_IN_UP,
	VIZ_IN_MOTION,
	VIZ_IN_RESIZE,
	VIZ_IN_QUIT,
};

struct viz_input {
	uint8_t kind;
	uint8_t key;
	bool is_shift;
	bool is_ctrl;
	int x, y;
	/** DOWN / UP: true for the right button (the what-if menu). */
	bool is_right;
};

enum {
	/** The longest what-if menu (a server cord's), its width, a row. */
	VIZ_MENU_ITEMS_MAX = 7,
	VIZ_MENU_W = 300,
	VIZ_MENU_ITEM_H = 22,
};

/** What a what-if menu item does (main.c makes the intervention). */
enum viz_menu_do {
	/** A client's: R (stop / resume reading), D (disconnect now). */
	VIZ_MENU_READING,
	VIZ_MENU_DISCONNECT,
	/** A server cord's: hold it busy `arg` µs; set an option to `arg`. */
	VIZ_MENU_HOLD,
	VIZ_MENU_NET_MSG_MAX,
	VIZ_MENU_READAHEAD,
	/** A boat's (or Kharon's on the river): delay its message `arg` µs. */
	VIZ_MENU_DELAY,
	/** Every menu's last: W. */
	VIZ_MENU_SAVE,
};

struct viz_menu_item {
	/** The caption key of its label ("menu_hold_1ms"), ru and en. */
	const char *label;
	enum viz_menu_do what;
	uint64_t arg;
};

/**
 * The items of the what-if menu of a right-clicked `kind` (VIZ_HIT_CLIENT,
 * VIZ_HIT_CORD, VIZ_HIT_BOAT) into *items; returns how many (0: none).
 */
int
viz_ui_menu_items(int kind, const struct viz_menu_item **items);

enum {
	VIZ_SPEED_EV_MIN = -6,
	VIZ_SPEED_EV_MAX = 34,
	VIZ_SPEED_T_MIN = 0,
	VIZ_SPEED_T_MAX = 64,
};

struct viz_ui {
	int width, height;
	double pos;
	uint64_t t_now;
	bool is_paused;
	bool is_by_time;
	int speed_ev;
	int speed_t;
	int lang;
	bool is_help;
	bool is_dragging;
	bool was_paused;
	/** Following a growing trace: stay at its newest event. */
	bool is_follow;
	/** The selected item (kind VIZ_HIT_NONE: nothing). */
	struct viz_hit sel;
	/** Focus on one connection (0: none): the others fade. */
	int32_t focus_conn;
	bool want_quit;
	bool want_screenshot;
	bool want_fullscreen;
	/** Events seen by the last tick (the history may grow). */
	uint32_t n_events;
	/**
	 * A guided tour (NULL: none; tour.h). While `is_tour`, playing stops
	 * at each stop's event and pauses there; space or Enter goes on.
	 */
	const struct viz_tour *tour;
	bool is_tour;
	/** What if: VIZ_KEY_R / VIZ_KEY_D asked for (0: none), W asked for. */
	int want_intervene;
	/** What if: hold the selected server cord busy this long, µs (0: no). */
	uint64_t want_hold_us;
	/** What if: delay the selected boat's message this long, µs (0: no). */
	uint64_t want_delay_us;
	/**
	 * What if: set a server option from now on (VIZ_MENU_NET_MSG_MAX or
	 * VIZ_MENU_READAHEAD to `want_option_value`; 0: none asked for).
	 */
	int want_option;
	uint64_t want_option_value;
	bool want_save;
	/** Events shown when the run was last forked (0: not forked). */
	uint32_t fork_n;
	/**
	 * The what-if menu, opened by a right click on a client, a server
	 * cord, or a boat or Kharon on the river (menu_kind VIZ_HIT_CLIENT,
	 * VIZ_HIT_CORD or VIZ_HIT_BOAT; `sel` is what was clicked).
	 */
	bool is_menu;
	int menu_kind;
	int menu_x, menu_y;
};

void
viz_ui_init(struct viz_ui *ui, int width, int height, int lang);

/** The number of events the scene shows: floor(pos). */
uint32_t
viz_ui_n(const struct viz_ui *ui);

/** Now, for the layout's boat interpolation. */
void
viz_ui_clock(const struct viz_ui *ui, const struct viz_history *h,
	     struct viz_clock *clock);

/** Events per second (by event) or ns per second (by time). */
double
viz_ui_rate(const struct viz_ui *ui);

/** Advance by `dt` seconds of playback (nothing when paused). */
void
viz_ui_tick(struct viz_ui *ui, const struct viz_history *h, double dt);

/** Go to the state after `n` events (pauses nothing). */
void
viz_ui_seek(struct viz_ui *ui, const struct viz_history *h, uint32_t n);

/** Step one event (dir +1 / -1); pauses. */
void
viz_ui_step(struct viz_ui *ui, const struct viz_history *h, int dir);

/**
 * Jump to the next (dir +1) / previous (-1) event with the name of the
 * last shown one; with `related`, the next event of the selected message
 * or connection (or the focused connection). Pauses. Returns false when
 * there is none (nothing moves).
 */
bool
viz_ui_jump(struct viz_ui *ui, const struct viz_history *h, int dir,
	    bool related);

/** Does event `i` belong to the selection / focus (for highlights)? */
bool
viz_ui_is_related(const struct viz_ui *ui, const struct viz_history *h,
		  uint32_t i);

/**
 * The tour stop shown now (the tour is on and the scene shows a stop's
 * event), or -1.
 */
int
viz_ui_tour_stop(const struct viz_ui *ui);

/**
 * Go to tour stop `k` (0 .. n_stops - 1): seek to its event, pause, and
 * put its connection in focus.
 */
void
viz_ui_tour_go(struct viz_ui *ui, const struct viz_history *h, int k);

/** Handle one input, with `l` the layout of the frame on screen. */
void
viz_ui_input(struct viz_ui *ui, const struct viz_history *h,
	     const struct viz_layout *l, const struct viz_input *in);

#endif /* KHARON_VIZ_UI_H */
