/*
 * bytes.h - explicit big-endian encoding, the only way minitorrent puts numbers on the wire.
 *
 * Network protocols fix their byte order (BitTorrent and BEP 15 use big-endian, "network order"),
 * while the CPU has its own. Writing a struct straight to a socket would send the CPU's order and
 * its padding; these helpers build each byte by shifting instead, so the code reads like the
 * protocol's diagrams and works on any machine.
 */
#ifndef BYTES_H
#define BYTES_H

#include <stdint.h>

static inline void put_u16be(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static inline void put_u32be(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline void put_u64be(unsigned char *p, uint64_t v)
{
    put_u32be(p, (uint32_t)(v >> 32));
    put_u32be(p + 4, (uint32_t)v);
}

static inline uint16_t get_u16be(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t get_u32be(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t get_u64be(const unsigned char *p)
{
    return ((uint64_t)get_u32be(p) << 32) | get_u32be(p + 4);
}

#endif
