/*
 * io.h - reading and writing exact byte counts on a stream socket.
 *
 * A TCP read returns whatever has arrived, which may be one byte of a hundred; a write may take
 * only part of the buffer. These are UNP's readn/writen: loop until the count is done, and retry
 * the call when a signal interrupted it (EINTR).
 */
#ifndef IO_H
#define IO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads exactly n bytes unless the stream ends first. Returns the count read (less than n only at
 * end of stream), or -1 with errno set. */
ssize_t readn(int fd, void *buf, size_t n);

/* Writes all n bytes. Returns n, or -1 with errno set (EPIPE when the peer has gone: never death by
 * SIGPIPE). */
ssize_t writen(int fd, const void *buf, size_t n);

/* One send() that never raises SIGPIPE, for non-blocking sockets: returns the bytes taken (maybe
 * fewer than n), or -1 with errno set (EAGAIN when the socket buffer is full). */
ssize_t io_send(int fd, const void *buf, size_t n);

/* Makes the whole process immune to SIGPIPE. Every server calls this once: writing to a closed
 * socket must be an error that one connection handles, not a signal that kills all of them. */
void io_ignore_sigpipe(void);

#endif
