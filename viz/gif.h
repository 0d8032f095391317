/*
 * gif.h — an animated GIF from frames of palette indices (giflib), with the
 * viewer's fixed palette as the global colour table: no quantisation, no
 * dithering, so the bytes depend on the frames only and the same trace
 * gives the same GIF on every run and machine. Each frame after the first
 * is stored as the smallest rectangle that changed (the rest is kept).
 */
#ifndef KHARON_VIZ_GIF_H
#define KHARON_VIZ_GIF_H

#include <stdint.h>

struct viz_gif;

/** Start `path` (width x height, looping forever). NULL + diag. */
struct viz_gif *
viz_gif_open(const char *path, int width, int height);

/**
 * Append a frame (width*height palette indices) shown for `delay_cs`
 * hundredths of a second. Returns 0 or -1 (diag set).
 */
int
viz_gif_frame(struct viz_gif *g, const uint8_t *pixels, int delay_cs);

/** Finish and close the file. 0 or -1 (diag set); `g` is freed either way. */
int
viz_gif_close(struct viz_gif *g);

#endif /* KHARON_VIZ_GIF_H */
