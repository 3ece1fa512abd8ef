/*
 * threads.c - pthread_create with the signal mask every server here wants.
 */
#include "threads.h"

#include <signal.h>

int thread_start(pthread_t *tid, void *(*fn)(void *), void *arg, bool detached, size_t stack_size)
{
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (detached)
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size > 0)
        pthread_attr_setstacksize(&attr, stack_size);
    int err = pthread_create(tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}
