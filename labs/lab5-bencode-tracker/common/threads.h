/*
 * threads.h - starting threads that leave SIGINT and SIGTERM to the main thread.
 */
#ifndef THREADS_H
#define THREADS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Starts fn(arg) in a new thread, detached or joinable, with stack_size bytes of stack (0: the
 * system's default). SIGINT and SIGTERM are blocked while the thread is created, so it inherits a
 * mask without them and the signals always reach the main thread, whose blocking calls they
 * interrupt so it can shut down in order. Returns 0 or an error number. */
int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg, bool detached, size_t stack_size);

#endif
