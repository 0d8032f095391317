/*
 * scene.h — one frame of the Styx diagram as a display list: the banks and
 * the river, per connection the obuf pair (TX) and the ibuf pair (iproto)
 * byte-true, boats, Kharon and his flag, the cords' bells, the clients, the
 * caption of the current event, the timeline with its ticks, counters,
 * cursor and invariant marks, and the overlays (inspect panel, help).
 * Pure: reads the state, the layout, the history and the ui; writes only
 * the display list.
 */
#ifndef KHARON_VIZ_SCENE_H
#define KHARON_VIZ_SCENE_H

struct viz_display;
struct viz_layout;
struct viz_state;
struct viz_history;
struct viz_ui;
struct viz_captions;

/**
 * Build the frame for `ui` (its width, height, position) into `d`.
 * `title` names what is shown (a scenario or a file).
 */
void
viz_scene_build(struct viz_display *d, const struct viz_layout *l,
		const struct viz_state *s, const struct viz_history *h,
		const struct viz_ui *ui, const struct viz_captions *cap,
		const char *title);

#endif /* KHARON_VIZ_SCENE_H */
