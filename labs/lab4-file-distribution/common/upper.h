/*
 * upper.h - the application both uppercase servers run: ASCII letters to capitals.
 */
#ifndef UPPER_H
#define UPPER_H

#include <stddef.h>

/* Upper-cases the ASCII letters a-z in buf[0..len) in place and leaves every other byte alone.
 * toupper() would depend on the locale and could change bytes of UTF-8 text; the textbook's servers
 * treat the payload as ASCII, and so do we. */
void upper_ascii(char *buf, size_t len);

#endif
