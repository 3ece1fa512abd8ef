/*
 * threads.c - pthread_create with the signal mask every server here wants.
 */
#include "threads.h"

#include <signal.h>

int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg, bool detached, size_t stack_size)
{
    /* Each pthread_* call here can fail (a stack size below the system's minimum, say): the first
     * error is returned and no thread starts, rather than one with attributes nobody asked for. */
    pthread_attr_t attr;
    int err = pthread_attr_init(&attr);
    if (err != 0)
        return err;
    if (detached)
        err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (err == 0 && stack_size > 0)
        err = pthread_attr_setstacksize(&attr, stack_size);
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    if (err == 0)
        err = pthread_sigmask(SIG_BLOCK, &stop, &old); /* the new thread inherits this mask */
    if (err == 0) {
        err = pthread_create(tid, &attr, fn, arg);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_attr_destroy(&attr);
    return err;
}
