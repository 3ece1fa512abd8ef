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
    int err = pthread_sigmask(SIG_BLOCK, &stop, &old);
    if (err != 0)
        return err;

    /* Each pthread_attr_* call can fail (say, a stack size below the system's minimum): a thread
     * started with attributes other than the ones asked for would be a surprise much later, so
     * the first error is returned instead and no thread starts. */
    pthread_attr_t attr;
    err = pthread_attr_init(&attr);
    if (err == 0) {
        if (detached)
            err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (err == 0 && stack_size > 0)
            err = pthread_attr_setstacksize(&attr, stack_size);
        if (err == 0)
            err = pthread_create(tid, &attr, fn, arg);
        pthread_attr_destroy(&attr);
    }

    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}
