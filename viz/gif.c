/*
 * gif.c — deterministic animated GIFs through giflib (see gif.h).
 */
#include "viz/gif.h"

#include <errno.h>
#include <fcntl.h>
#include <gif_lib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "viz/palette.h"

/** Unused by the palette: "keep the pixel below" in frames after the first. */
enum { GIF_KEEP = 63 };
_Static_assert((int)VIZ_C_MAX <= (int)GIF_KEEP, "the palette must leave GIF_KEEP free");

struct viz_gif {
	GifFileType *file;
	int width, height;
	uint8_t *prev;
	/** One line of the frame being written. */
	GifPixelType *line;
	int n_frames;
};

static int
gif_error(const char *what, int code)
{
	const char *msg = GifErrorString(code);
	diag_set(DIAG_ER_SYSTEM, "GifError", "%s: %s", what,
		 msg != NULL ? msg : "unknown error");
	return -1;
}

struct viz_gif *
viz_gif_open(const char *path, int width, int height)
{
	struct viz_gif *g = mem_zalloc(sizeof(*g));
	if (g == NULL) {
		diag_set_oom(sizeof(*g), "gif");
		return NULL;
	}
	g->width = width;
	g->height = height;
	g->prev = mem_alloc((size_t)width * (size_t)height);
	g->line = mem_alloc((size_t)width);
	if (g->prev == NULL || g->line == NULL) {
		mem_free(g->line);
		diag_set_oom((size_t)width * (size_t)height, "gif frame");
		mem_free(g);
		return NULL;
	}
	int err = 0;
	/* Our own open(): giflib's would create the file 0600. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "cannot write %s: %s",
			 path, strerror(errno));
		mem_free(g->prev);
		mem_free(g);
		return NULL;
	}
	g->file = EGifOpenFileHandle(fd, &err);
	if (g->file == NULL) {
		close(fd);
		gif_error(path, err);
		mem_free(g->prev);
		mem_free(g);
		return NULL;
	}
	/* 64 entries: the palette, padded with black. */
	GifColorType colors[64];
	memset(colors, 0, sizeof(colors));
	for (int i = 0; i < VIZ_C_MAX && i < 64; i++) {
		colors[i].Red = viz_palette[i][0];
		colors[i].Green = viz_palette[i][1];
		colors[i].Blue = viz_palette[i][2];
	}
	ColorMapObject *map = GifMakeMapObject(64, colors);
	EGifSetGifVersion(g->file, true);
	int rc = map == NULL ? GIF_ERROR :
		 EGifPutScreenDesc(g->file, width, height, 6, 0, map);
	GifFreeMapObject(map);
	static const GifByteType loop[3] = { 1, 0, 0 };
	if (rc != GIF_OK ||
	    EGifPutExtensionLeader(g->file, APPLICATION_EXT_FUNC_CODE) != GIF_OK ||
	    EGifPutExtensionBlock(g->file, 11, "NETSCAPE2.0") != GIF_OK ||
	    EGifPutExtensionBlock(g->file, 3, loop) != GIF_OK ||
	    EGifPutExtensionTrailer(g->file) != GIF_OK) {
		gif_error(path, g->file->Error);
		EGifCloseFile(g->file, &err);
		mem_free(g->prev);
		mem_free(g);
		return NULL;
	}
	return g;
}

int
viz_gif_frame(struct viz_gif *g, const uint8_t *px, int delay_cs)
{
	int x0 = 0, y0 = 0, x1 = g->width - 1, y1 = g->height - 1;
	if (g->n_frames > 0) {
		/* The bounding box of what changed since the last frame. */
		x0 = g->width;
		y0 = g->height;
		x1 = -1;
		y1 = -1;
		for (int y = 0; y < g->height; y++) {
			const uint8_t *a = px + (size_t)y * (size_t)g->width;
			const uint8_t *b = g->prev + (size_t)y * (size_t)g->width;
			if (memcmp(a, b, (size_t)g->width) == 0)
				continue;
			if (y < y0)
				y0 = y;
			y1 = y;
			for (int x = 0; x < g->width; x++) {
				if (a[x] != b[x]) {
					if (x < x0)
						x0 = x;
					if (x > x1)
						x1 = x;
				}
			}
		}
		if (x1 < 0) {
			/* Nothing changed: one unchanged pixel holds the delay. */
			x0 = x1 = 0;
			y0 = y1 = 0;
		}
	}
	GraphicsControlBlock gcb;
	memset(&gcb, 0, sizeof(gcb));
	gcb.DisposalMode = DISPOSE_DO_NOT;
	gcb.DelayTime = delay_cs;
	gcb.TransparentColor = g->n_frames > 0 ? GIF_KEEP : NO_TRANSPARENT_COLOR;
	GifByteType ext[4];
	EGifGCBToExtension(&gcb, ext);
	int w = x1 - x0 + 1, h = y1 - y0 + 1;
	if (EGifPutExtension(g->file, GRAPHICS_EXT_FUNC_CODE, 4, ext) != GIF_OK ||
	    EGifPutImageDesc(g->file, x0, y0, w, h, false, NULL) != GIF_OK)
		return gif_error("gif frame", g->file->Error);
	for (int y = y0; y <= y1; y++) {
		const uint8_t *a = px + (size_t)y * (size_t)g->width + (size_t)x0;
		const uint8_t *b = g->prev + (size_t)y * (size_t)g->width +
				   (size_t)x0;
		/*
		 * Unchanged pixels become the transparent index: the frame
		 * below shows through, and long runs of it cost LZW little.
		 */
		for (int x = 0; x < w; x++)
			g->line[x] = g->n_frames > 0 && a[x] == b[x] ?
				     GIF_KEEP : a[x];
		if (EGifPutLine(g->file, g->line, w) != GIF_OK)
			return gif_error("gif line", g->file->Error);
	}
	memcpy(g->prev, px, (size_t)g->width * (size_t)g->height);
	g->n_frames++;
	return 0;
}

int
viz_gif_close(struct viz_gif *g)
{
	int err = 0;
	int rc = EGifCloseFile(g->file, &err) == GIF_OK ? 0 :
		 gif_error("gif close", err);
	mem_free(g->prev);
	mem_free(g->line);
	mem_free(g);
	return rc;
}
