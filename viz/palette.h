/*
 * palette.h — the viewer's fixed palette: every pixel the viewer draws is
 * one of these colours (no blending, no antialiased text), so a frame maps
 * to GIF colour indices exactly and the same trace gives the same GIF bytes
 * on every machine (viz/gif.h). Names say what each colour means on the
 * Styx diagram.
 */
#ifndef KHARON_VIZ_PALETTE_H
#define KHARON_VIZ_PALETTE_H

#include <stdint.h>

enum viz_color {
	VIZ_C_BG,
	VIZ_C_INK,
	VIZ_C_DIM,
	VIZ_C_WHITE,
	VIZ_C_LIVING,
	VIZ_C_LIVING_EDGE,
	VIZ_C_DEAD,
	VIZ_C_DEAD_EDGE,
	VIZ_C_RIVER,
	VIZ_C_RIVER_DEEP,
	VIZ_C_WAVE,
	VIZ_C_CLIENTS,
	VIZ_C_BUF_EMPTY,
	VIZ_C_BUF_EDGE,
	VIZ_C_BUF_SENT,
	VIZ_C_BUF_DATA,
	VIZ_C_RESERVED,
	VIZ_C_ROLLBACK,
	VIZ_C_INFLIGHT,
	VIZ_C_UNPARSED,
	VIZ_C_CONSUMED,
	VIZ_C_HULL,
	VIZ_C_BOAT_REQ,
	VIZ_C_BOAT_REPLY,
	VIZ_C_BOAT_OTHER,
	VIZ_C_KHARON_HULL,
	VIZ_C_KHARON_CLOAK,
	VIZ_C_KHARON_FACE,
	VIZ_C_POLE,
	VIZ_C_FLAG,
	VIZ_C_BELL,
	VIZ_C_BELL_RUNG,
	VIZ_C_TASK_RUN,
	VIZ_C_TASK_WAIT,
	VIZ_C_PANEL,
	VIZ_C_PANEL_EDGE,
	VIZ_C_CAPTION_BG,
	VIZ_C_TIMELINE_BG,
	VIZ_C_CURSOR,
	VIZ_C_INVARIANT,
	VIZ_C_TICK_CBUS,
	VIZ_C_TICK_TX,
	VIZ_C_TICK_OBUF,
	VIZ_C_TICK_KHARON,
	VIZ_C_TICK_NET,
	VIZ_C_TICK_CLIENT,
	VIZ_C_PLOT_IBUF,
	VIZ_C_PLOT_OBUF,
	VIZ_C_PLOT_BOATS,
	VIZ_C_PLOT_WAKEUPS,
	VIZ_C_HIGHLIGHT,
	VIZ_C_FADE,
	VIZ_C_MAX,
};

/** RGB of each colour. */
extern const uint8_t viz_palette[VIZ_C_MAX][3];

/** "river", "kharon_cloak", ... (display list dumps). */
const char *
viz_color_name(enum viz_color c);

#endif /* KHARON_VIZ_PALETTE_H */
