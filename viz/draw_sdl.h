/*
 * draw_sdl.h — the SDL back end: a window (or, headless, a software
 * surface with no video driver at all), fonts (SDL2_ttf, DejaVu Sans for
 * Cyrillic), executing a display list, PNG (SDL2_image's IMG_SavePNG),
 * reading a frame back as palette indices for the GIF, and SDL's input
 * turned into the viewer's own events (ui.h). The header has no SDL type:
 * only draw_sdl.c includes SDL (STYLE.md), and it never sees the model.
 */
#ifndef KHARON_VIZ_DRAW_SDL_H
#define KHARON_VIZ_DRAW_SDL_H

#include <stdbool.h>
#include <stdint.h>

struct viz_display;
struct viz_input;
struct viz_sdl;

/**
 * A window of width x height titled `title`, or with `headless` an
 * off-screen software surface (no display needed). NULL + diag on failure
 * (no display, no font).
 */
struct viz_sdl *
viz_sdl_new(int width, int height, bool headless, const char *title);

void
viz_sdl_delete(struct viz_sdl *g);

/** Draw `d` and show it (window). Resizes a headless surface to d's size. */
int
viz_sdl_draw(struct viz_sdl *g, const struct viz_display *d);

/** The last drawn frame as a PNG. 0 or -1 (diag set). */
int
viz_sdl_save_png(struct viz_sdl *g, const char *path);

/**
 * The last drawn frame as indices into viz_palette (width*height bytes;
 * a pixel of no palette colour takes the nearest). Returns the number of
 * pixels that were not exactly a palette colour, or -1 (diag set).
 */
int64_t
viz_sdl_read_indexed(struct viz_sdl *g, uint8_t *out);

/** The next input, if any: 1, or 0 when the queue is empty. */
int
viz_sdl_poll(struct viz_sdl *g, struct viz_input *in);

/** Sleep up to `ms` or until an input arrives. */
void
viz_sdl_wait(struct viz_sdl *g, int ms);

/** The window's drawable size now. */
void
viz_sdl_size(struct viz_sdl *g, int *width, int *height);

void
viz_sdl_set_fullscreen(struct viz_sdl *g, bool on);

/**
 * Put an input into SDL's own event queue (what a user's key or mouse
 * would make), for --script and the real-window test: it then takes the
 * same path as a real one.
 */
int
viz_sdl_push(struct viz_sdl *g, const struct viz_input *in);

/**
 * Compare two PNG files: the number of pixels whose colour differs by more
 * than `tol` in some channel, and in *total the pixel count. -1 (diag set)
 * when a file cannot be read or the sizes differ. (Tests: PNG goldens
 * with a tolerance, since FreeType may change a glyph's pixels.)
 */
int64_t
viz_sdl_png_diff(const char *a, const char *b, int tol, int64_t *total);

/** Seconds since an arbitrary start (SDL's performance counter). */
double
viz_sdl_seconds(void);

#endif /* KHARON_VIZ_DRAW_SDL_H */
