/*
 * upper.c - the application both uppercase servers run, in one place so the UDP and TCP servers and
 * the UDP client (which predicts each reply) agree on it.
 */
#include "upper.h"

void upper_ascii(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
}
