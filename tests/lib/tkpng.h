/*
 * tkpng.h - a small PNG reader for tests that look at screenshots.
 *
 * It reads what headless Chromium writes (8-bit greyscale, RGB or RGBA, not interlaced) and
 * hands back RGBA pixels, with its own inflate, because plain libc has no zlib and a test
 * should not need one more library to say "this screenshot is not blank".
 */
#ifndef TKPNG_H
#define TKPNG_H

#include <stddef.h>

struct tk_image {
    unsigned width, height;
    unsigned char *rgba; /* width * height * 4 bytes, row by row */
};

/* Reads the PNG file at path into img. Returns 0, or -1 with a reason in err. */
int tk_png_read(const char *path, struct tk_image *img, char *err, size_t errlen);

/* Decodes a PNG held in memory; as tk_png_read. */
int tk_png_decode(const unsigned char *png, size_t len, struct tk_image *img, char *err,
                  size_t errlen);

/* Frees the pixels; img may then be reused. */
void tk_image_free(struct tk_image *img);

#endif
