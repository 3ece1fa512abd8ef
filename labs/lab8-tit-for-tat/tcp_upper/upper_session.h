/*
 * upper_session.h - one client's conversation with the uppercase server, done right.
 *
 * tcp_upper_server2 runs it for one client after another; tcp_upper_server3 runs it in a thread per
 * client. Both get the same framing, because this is the only copy of it.
 */
#ifndef UPPER_SESSION_H
#define UPPER_SESSION_H

/* Reads newline-terminated lines from the connected socket fd and answers each with the line in
 * capitals and a newline, until the client closes its side. A line longer than LINEREADER_MAX
 * bytes gets one "error: ..." line back and ends the session. Returns 0 when the client finished,
 * -1 on an error (errno set; EPIPE or ECONNRESET when the client vanished). fd is not closed. */
int upper_session(int fd);

#endif
