/*
 * draw_sdl.c — the one file that includes SDL (see draw_sdl.h). It draws
 * display lists exactly: fills, lines and polygons in palette colours, text
 * rendered "solid" (no antialiasing), so every pixel stays a palette colour
 * and the GIF is a pure function of the trace.
 */
#include "viz/draw_sdl.h"

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "viz/display.h"
#include "viz/palette.h"
#include "viz/ui.h"

enum { TEXT_CACHE = 2048 };

static const char *const font_paths[] = {
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/dejavu/DejaVuSans.ttf",
};
static const int font_sizes[VIZ_FONT_MAX] = { 11, 14, 17 };

struct text_entry {
	uint64_t hash;
	char *text;
	SDL_Texture *tex;
	int w, h;
};

struct viz_sdl {
	bool is_headless;
	SDL_Window *win;
	SDL_Surface *surface;
	SDL_Renderer *ren;
	TTF_Font *fonts[VIZ_FONT_MAX];
	int width, height;
	struct text_entry cache[TEXT_CACHE];
};

static int
sdl_error(const char *what)
{
	diag_set(DIAG_ER_UNKNOWN, "SDLError", "%s: %s", what, SDL_GetError());
	return -1;
}

static int
make_surface(struct viz_sdl *g, int w, int h)
{
	if (g->ren != NULL)
		SDL_DestroyRenderer(g->ren);
	if (g->surface != NULL)
		SDL_FreeSurface(g->surface);
	g->ren = NULL;
	for (int i = 0; i < TEXT_CACHE; i++) {
		/* Textures belong to a renderer: drop them with it. */
		g->cache[i].tex = NULL;
		mem_free(g->cache[i].text);
		g->cache[i].text = NULL;
		g->cache[i].hash = 0;
	}
	g->surface = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32,
						    SDL_PIXELFORMAT_ARGB8888);
	if (g->surface == NULL)
		return sdl_error("surface");
	g->ren = SDL_CreateSoftwareRenderer(g->surface);
	if (g->ren == NULL)
		return sdl_error("software renderer");
	g->width = w;
	g->height = h;
	return 0;
}

struct viz_sdl *
viz_sdl_new(int width, int height, bool headless, const char *title)
{
	struct viz_sdl *g = mem_zalloc(sizeof(*g));
	if (g == NULL) {
		diag_set_oom(sizeof(*g), "viewer");
		return NULL;
	}
	g->is_headless = headless;
	if (TTF_Init() != 0) {
		sdl_error("TTF_Init");
		goto fail;
	}
	for (int i = 0; i < VIZ_FONT_MAX; i++) {
		for (size_t k = 0; k < sizeof(font_paths) / sizeof(font_paths[0]) &&
		     g->fonts[i] == NULL; k++)
			g->fonts[i] = TTF_OpenFont(font_paths[k], font_sizes[i]);
		if (g->fonts[i] == NULL) {
			diag_set(DIAG_ER_UNKNOWN, "FontError",
				 "DejaVu Sans not found (%s; make deps installs "
				 "fonts-dejavu-core)", font_paths[0]);
			goto fail;
		}
		TTF_SetFontHinting(g->fonts[i], TTF_HINTING_MONO);
	}
	if (headless) {
		if (make_surface(g, width, height) != 0)
			goto fail;
		return g;
	}
	if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
		sdl_error("no display (headless: use --png or --gif)");
		goto fail;
	}
	/*
	 * With no display SDL falls back to its off-screen driver: a window
	 * nobody sees, running forever. Refuse unless it was asked for.
	 */
	const char *drv = SDL_GetCurrentVideoDriver();
	if (drv != NULL && getenv("SDL_VIDEODRIVER") == NULL &&
	    (strcmp(drv, "offscreen") == 0 || strcmp(drv, "dummy") == 0)) {
		diag_set(DIAG_ER_UNKNOWN, "SDLError", "no display (no $DISPLAY): "
			 "write a picture with --png FILE --at N or --gif FILE");
		goto fail;
	}
	g->win = SDL_CreateWindow(title, SDL_WINDOWPOS_CENTERED,
				  SDL_WINDOWPOS_CENTERED, width, height,
				  SDL_WINDOW_RESIZABLE);
	if (g->win == NULL) {
		sdl_error("window");
		goto fail;
	}
	g->ren = SDL_CreateRenderer(g->win, -1, 0);
	if (g->ren == NULL) {
		sdl_error("renderer");
		goto fail;
	}
	g->width = width;
	g->height = height;
	return g;
fail:
	viz_sdl_delete(g);
	return NULL;
}

void
viz_sdl_delete(struct viz_sdl *g)
{
	if (g == NULL)
		return;
	for (int i = 0; i < TEXT_CACHE; i++) {
		if (g->cache[i].tex != NULL)
			SDL_DestroyTexture(g->cache[i].tex);
		mem_free(g->cache[i].text);
	}
	for (int i = 0; i < VIZ_FONT_MAX; i++)
		if (g->fonts[i] != NULL)
			TTF_CloseFont(g->fonts[i]);
	if (g->ren != NULL)
		SDL_DestroyRenderer(g->ren);
	if (g->surface != NULL)
		SDL_FreeSurface(g->surface);
	if (g->win != NULL)
		SDL_DestroyWindow(g->win);
	if (TTF_WasInit())
		TTF_Quit();
	if (!g->is_headless)
		SDL_Quit();
	mem_free(g);
}

static void
set_color(struct viz_sdl *g, int c)
{
	const uint8_t *rgb = viz_palette[c % VIZ_C_MAX];
	SDL_SetRenderDrawColor(g->ren, rgb[0], rgb[1], rgb[2], 255);
}

static uint64_t
text_hash(const char *s, int font, int color, int wrap)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ (uint64_t)font) * 1099511628211ULL;
	h = (h ^ (uint64_t)color) * 1099511628211ULL;
	h = (h ^ (uint64_t)(wrap + 1)) * 1099511628211ULL;
	return h | 1;
}

static const struct text_entry *
text_get(struct viz_sdl *g, const char *s, int font, int color, int wrap)
{
	uint64_t h = text_hash(s, font, color, wrap);
	struct text_entry *e = &g->cache[h % TEXT_CACHE];
	if (e->hash == h && e->text != NULL && strcmp(e->text, s) == 0)
		return e;
	if (e->tex != NULL)
		SDL_DestroyTexture(e->tex);
	mem_free(e->text);
	memset(e, 0, sizeof(*e));
	const uint8_t *rgb = viz_palette[color % VIZ_C_MAX];
	SDL_Color fg = { rgb[0], rgb[1], rgb[2], 255 };
	TTF_Font *f = g->fonts[font % VIZ_FONT_MAX];
	SDL_Surface *surf = wrap > 0 ?
		TTF_RenderUTF8_Solid_Wrapped(f, s, fg, (Uint32)wrap) :
		TTF_RenderUTF8_Solid(f, s, fg);
	if (surf == NULL)
		return NULL;
	e->tex = SDL_CreateTextureFromSurface(g->ren, surf);
	e->w = surf->w;
	e->h = surf->h;
	SDL_FreeSurface(surf);
	if (e->tex == NULL)
		return NULL;
	size_t n = strlen(s) + 1;
	e->text = mem_alloc(n);
	if (e->text == NULL) {
		SDL_DestroyTexture(e->tex);
		e->tex = NULL;
		return NULL;
	}
	memcpy(e->text, s, n);
	e->hash = h;
	return e;
}

static void
draw_poly(struct viz_sdl *g, const struct viz_cmd *c)
{
	const uint8_t *rgb = viz_palette[c->color % VIZ_C_MAX];
	SDL_Vertex v[3 * VIZ_POLY_MAX];
	int n = 0;
	for (int i = 1; i + 1 < c->n; i++) {
		int idx[3] = { 0, i, i + 1 };
		for (int k = 0; k < 3; k++) {
			SDL_Vertex *x = &v[n++];
			memset(x, 0, sizeof(*x));
			x->position.x = c->px[idx[k]];
			x->position.y = c->py[idx[k]];
			x->color.r = rgb[0];
			x->color.g = rgb[1];
			x->color.b = rgb[2];
			x->color.a = 255;
		}
	}
	SDL_RenderGeometry(g->ren, NULL, v, n, NULL, 0);
}

int
viz_sdl_draw(struct viz_sdl *g, const struct viz_display *d)
{
	if (g->is_headless && (d->width != g->width || d->height != g->height) &&
	    make_surface(g, d->width, d->height) != 0)
		return -1;
	SDL_SetRenderDrawBlendMode(g->ren, SDL_BLENDMODE_NONE);
	set_color(g, VIZ_C_BG);
	SDL_RenderClear(g->ren);
	for (int i = 0; i < d->n_cmds; i++) {
		const struct viz_cmd *c = &d->cmds[i];
		switch (c->kind) {
		case VIZ_CMD_RECT: {
			SDL_Rect r = { c->x, c->y, c->w, c->h };
			set_color(g, c->color);
			SDL_RenderFillRect(g->ren, &r);
			break;
		}
		case VIZ_CMD_FRAME: {
			SDL_Rect r = { c->x, c->y, c->w, c->h };
			set_color(g, c->color);
			SDL_RenderDrawRect(g->ren, &r);
			break;
		}
		case VIZ_CMD_LINE:
			set_color(g, c->color);
			SDL_RenderDrawLine(g->ren, c->x, c->y, c->x + c->w,
					   c->y + c->h);
			break;
		case VIZ_CMD_POLY:
			draw_poly(g, c);
			break;
		case VIZ_CMD_TEXT: {
			const struct text_entry *e =
				text_get(g, viz_cmd_text(d, c), c->font,
					 c->color, c->w);
			if (e == NULL)
				break;
			int x = c->x;
			if (c->align == VIZ_ALIGN_CENTER)
				x -= e->w / 2;
			else if (c->align == VIZ_ALIGN_RIGHT)
				x -= e->w;
			SDL_Rect r = { x, c->y, e->w, e->h };
			SDL_RenderCopy(g->ren, e->tex, NULL, &r);
			break;
		}
		default:
			break;
		}
	}
	SDL_RenderPresent(g->ren);
	return 0;
}

/** The last frame as an ARGB8888 surface the caller frees. */
static SDL_Surface *
frame_surface(struct viz_sdl *g)
{
	if (g->is_headless) {
		g->surface->refcount++;
		return g->surface;
	}
	int w, h;
	SDL_GetRendererOutputSize(g->ren, &w, &h);
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32,
							SDL_PIXELFORMAT_ARGB8888);
	if (s == NULL)
		return NULL;
	if (SDL_RenderReadPixels(g->ren, NULL, SDL_PIXELFORMAT_ARGB8888,
				 s->pixels, s->pitch) != 0) {
		SDL_FreeSurface(s);
		return NULL;
	}
	return s;
}

int
viz_sdl_save_png(struct viz_sdl *g, const char *path)
{
	SDL_Surface *s = frame_surface(g);
	if (s == NULL)
		return sdl_error("read pixels");
	int rc = IMG_SavePNG(s, path);
	SDL_FreeSurface(s);
	if (rc != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "cannot write %s: %s",
			 path, IMG_GetError());
		return -1;
	}
	return 0;
}

int64_t
viz_sdl_read_indexed(struct viz_sdl *g, uint8_t *out)
{
	SDL_Surface *s = frame_surface(g);
	if (s == NULL)
		return sdl_error("read pixels");
	int64_t stray = 0;
	uint32_t last_px = 0;
	uint8_t last_idx = 0;
	bool has_last = false;
	for (int y = 0; y < s->h; y++) {
		const uint32_t *row = (const uint32_t *)((const uint8_t *)
			s->pixels + (size_t)y * (size_t)s->pitch);
		for (int x = 0; x < s->w; x++) {
			uint32_t px = row[x] & 0xFFFFFF;
			if (has_last && px == last_px) {
				out[(size_t)y * (size_t)s->w + (size_t)x] = last_idx;
				continue;
			}
			int r = (int)(px >> 16), gg = (int)((px >> 8) & 0xFF),
			    b = (int)(px & 0xFF);
			int best = 0, best_d = 1 << 30;
			for (int c = 0; c < VIZ_C_MAX; c++) {
				int dr = r - viz_palette[c][0];
				int dg = gg - viz_palette[c][1];
				int db = b - viz_palette[c][2];
				int dd = dr * dr + dg * dg + db * db;
				if (dd < best_d) {
					best_d = dd;
					best = c;
				}
			}
			if (best_d != 0)
				stray++;
			last_px = px;
			last_idx = (uint8_t)best;
			has_last = true;
			out[(size_t)y * (size_t)s->w + (size_t)x] = (uint8_t)best;
		}
	}
	SDL_FreeSurface(s);
	return stray;
}

static int
key_of(SDL_Keycode k)
{
	switch (k) {
	case SDLK_SPACE: return VIZ_KEY_SPACE;
	case SDLK_LEFT: return VIZ_KEY_LEFT;
	case SDLK_RIGHT: return VIZ_KEY_RIGHT;
	case SDLK_HOME: return VIZ_KEY_HOME;
	case SDLK_END: return VIZ_KEY_END;
	case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS:
		return VIZ_KEY_PLUS;
	case SDLK_MINUS: case SDLK_KP_MINUS: return VIZ_KEY_MINUS;
	case SDLK_p: return VIZ_KEY_P;
	case SDLK_f: return VIZ_KEY_F;
	case SDLK_l: return VIZ_KEY_L;
	case SDLK_s: return VIZ_KEY_S;
	case SDLK_SLASH: case SDLK_QUESTION: case SDLK_h:
		return VIZ_KEY_HELP;
	case SDLK_ESCAPE: return VIZ_KEY_ESC;
	case SDLK_q: return VIZ_KEY_Q;
	case SDLK_F11: return VIZ_KEY_FULLSCREEN;
	case SDLK_RETURN: case SDLK_KP_ENTER: return VIZ_KEY_ENTER;
	case SDLK_BACKSPACE: case SDLK_b: return VIZ_KEY_BACK;
	case SDLK_t: return VIZ_KEY_T;
	case SDLK_r: return VIZ_KEY_R;
	case SDLK_d: return VIZ_KEY_D;
	case SDLK_w: return VIZ_KEY_W;
	default: return VIZ_KEY_NONE;
	}
}

static SDL_Keycode
sdl_key(int k)
{
	static const SDL_Keycode map[] = {
		[VIZ_KEY_SPACE] = SDLK_SPACE, [VIZ_KEY_LEFT] = SDLK_LEFT,
		[VIZ_KEY_RIGHT] = SDLK_RIGHT, [VIZ_KEY_HOME] = SDLK_HOME,
		[VIZ_KEY_END] = SDLK_END, [VIZ_KEY_PLUS] = SDLK_EQUALS,
		[VIZ_KEY_MINUS] = SDLK_MINUS, [VIZ_KEY_P] = SDLK_p,
		[VIZ_KEY_F] = SDLK_f, [VIZ_KEY_L] = SDLK_l,
		[VIZ_KEY_S] = SDLK_s, [VIZ_KEY_HELP] = SDLK_SLASH,
		[VIZ_KEY_ESC] = SDLK_ESCAPE, [VIZ_KEY_Q] = SDLK_q,
		[VIZ_KEY_FULLSCREEN] = SDLK_F11, [VIZ_KEY_ENTER] = SDLK_RETURN,
		[VIZ_KEY_BACK] = SDLK_BACKSPACE, [VIZ_KEY_T] = SDLK_t,
		[VIZ_KEY_R] = SDLK_r, [VIZ_KEY_D] = SDLK_d, [VIZ_KEY_W] = SDLK_w,
	};
	return k > 0 && k < (int)(sizeof(map) / sizeof(map[0])) ? map[k] :
	       SDLK_UNKNOWN;
}

int
viz_sdl_poll(struct viz_sdl *g, struct viz_input *in)
{
	if (g->is_headless)
		return 0;
	SDL_Event ev;
	while (SDL_PollEvent(&ev)) {
		memset(in, 0, sizeof(*in));
		switch (ev.type) {
		case SDL_QUIT:
			in->kind = VIZ_IN_QUIT;
			return 1;
		case SDL_KEYDOWN:
			in->kind = VIZ_IN_KEY;
			in->key = (uint8_t)key_of(ev.key.keysym.sym);
			in->is_shift = (ev.key.keysym.mod & KMOD_SHIFT) != 0;
			in->is_ctrl = (ev.key.keysym.mod & KMOD_CTRL) != 0;
			if (ev.key.keysym.sym == SDLK_SLASH && !in->is_shift &&
			    ev.key.keysym.mod == KMOD_NONE)
				in->key = VIZ_KEY_HELP;
			if (in->key == VIZ_KEY_NONE)
				continue;
			return 1;
		case SDL_MOUSEBUTTONDOWN:
		case SDL_MOUSEBUTTONUP:
			if (ev.button.button != SDL_BUTTON_LEFT &&
			    ev.button.button != SDL_BUTTON_RIGHT)
				continue;
			in->kind = ev.type == SDL_MOUSEBUTTONDOWN ? VIZ_IN_DOWN :
				   VIZ_IN_UP;
			in->is_right = ev.button.button == SDL_BUTTON_RIGHT;
			in->x = ev.button.x;
			in->y = ev.button.y;
			return 1;
		case SDL_MOUSEMOTION:
			in->kind = VIZ_IN_MOTION;
			in->x = ev.motion.x;
			in->y = ev.motion.y;
			return 1;
		case SDL_WINDOWEVENT:
			if (ev.window.event != SDL_WINDOWEVENT_SIZE_CHANGED)
				continue;
			in->kind = VIZ_IN_RESIZE;
			in->x = ev.window.data1;
			in->y = ev.window.data2;
			return 1;
		default:
			continue;
		}
	}
	return 0;
}

void
viz_sdl_wait(struct viz_sdl *g, int ms)
{
	if (ms <= 0)
		return;
	if (g->is_headless)
		SDL_Delay((Uint32)ms);
	else
		SDL_WaitEventTimeout(NULL, ms);
}

void
viz_sdl_size(struct viz_sdl *g, int *width, int *height)
{
	if (g->win != NULL)
		SDL_GetWindowSize(g->win, width, height);
	else {
		*width = g->width;
		*height = g->height;
	}
}

void
viz_sdl_set_fullscreen(struct viz_sdl *g, bool on)
{
	if (g->win != NULL)
		SDL_SetWindowFullscreen(g->win, on ?
					SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
}

int
viz_sdl_push(struct viz_sdl *g, const struct viz_input *in)
{
	SDL_Event ev;
	memset(&ev, 0, sizeof(ev));
	Uint32 wid = g->win != NULL ? SDL_GetWindowID(g->win) : 0;
	switch (in->kind) {
	case VIZ_IN_KEY:
		ev.type = SDL_KEYDOWN;
		ev.key.windowID = wid;
		ev.key.state = SDL_PRESSED;
		ev.key.keysym.sym = sdl_key(in->key);
		ev.key.keysym.mod = (Uint16)((in->is_shift ? KMOD_LSHIFT : 0) |
					     (in->is_ctrl ? KMOD_LCTRL : 0));
		break;
	case VIZ_IN_DOWN:
	case VIZ_IN_UP:
		ev.type = in->kind == VIZ_IN_DOWN ? SDL_MOUSEBUTTONDOWN :
			  SDL_MOUSEBUTTONUP;
		ev.button.windowID = wid;
		ev.button.button = in->is_right ? SDL_BUTTON_RIGHT :
				   SDL_BUTTON_LEFT;
		ev.button.state = in->kind == VIZ_IN_DOWN ? SDL_PRESSED :
				  SDL_RELEASED;
		ev.button.clicks = 1;
		ev.button.x = in->x;
		ev.button.y = in->y;
		break;
	case VIZ_IN_MOTION:
		ev.type = SDL_MOUSEMOTION;
		ev.motion.windowID = wid;
		ev.motion.x = in->x;
		ev.motion.y = in->y;
		break;
	case VIZ_IN_QUIT:
		ev.type = SDL_QUIT;
		break;
	case VIZ_IN_RESIZE:
		if (g->win != NULL)
			SDL_SetWindowSize(g->win, in->x, in->y);
		return 0;
	default:
		return 0;
	}
	return SDL_PushEvent(&ev) == 1 ? 0 : sdl_error("push event");
}

double
viz_sdl_seconds(void)
{
	return (double)SDL_GetPerformanceCounter() /
	       (double)SDL_GetPerformanceFrequency();
}

int64_t
viz_sdl_png_diff(const char *a, const char *b, int tol, int64_t *total)
{
	SDL_Surface *sa = IMG_Load(a), *sb = IMG_Load(b);
	SDL_Surface *ca = sa != NULL ? SDL_ConvertSurfaceFormat(
		sa, SDL_PIXELFORMAT_ARGB8888, 0) : NULL;
	SDL_Surface *cb = sb != NULL ? SDL_ConvertSurfaceFormat(
		sb, SDL_PIXELFORMAT_ARGB8888, 0) : NULL;
	int64_t diff = -1;
	if (ca == NULL || cb == NULL) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "cannot read %s: %s",
			 ca == NULL ? a : b, IMG_GetError());
	} else if (ca->w != cb->w || ca->h != cb->h) {
		diag_set(DIAG_ER_UNKNOWN, "PngError", "%s is %dx%d, %s is %dx%d",
			 a, ca->w, ca->h, b, cb->w, cb->h);
	} else {
		diff = 0;
		*total = (int64_t)ca->w * ca->h;
		for (int y = 0; y < ca->h; y++) {
			const uint32_t *ra = (const uint32_t *)((const uint8_t *)
				ca->pixels + (size_t)y * (size_t)ca->pitch);
			const uint32_t *rb = (const uint32_t *)((const uint8_t *)
				cb->pixels + (size_t)y * (size_t)cb->pitch);
			for (int x = 0; x < ca->w; x++) {
				for (int sh = 0; sh < 24; sh += 8) {
					int da = (int)((ra[x] >> sh) & 0xFF) -
						 (int)((rb[x] >> sh) & 0xFF);
					if (da > tol || da < -tol) {
						diff++;
						break;
					}
				}
			}
		}
	}
	SDL_FreeSurface(ca);
	SDL_FreeSurface(cb);
	SDL_FreeSurface(sa);
	SDL_FreeSurface(sb);
	return diff;
}
