/*
 * randbytes.h - unpredictable bytes for peer ids, transaction ids and seeds.
 */
#ifndef RANDBYTES_H
#define RANDBYTES_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with n random bytes from /dev/urandom; if that cannot be read, from the time and the
 * process id, which is enough to keep two local peers apart. */
void rand_bytes(void *buf, size_t n);

/* A random 64-bit number, for seeding the core's generators. */
uint64_t rand_u64(void);

#endif
