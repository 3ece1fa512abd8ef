/*
 * turns.c - upload turns, a piece's worth each, in the order the connections asked. See turns.h.
 */
#include "turns.h"

#include <stdlib.h>
#include <string.h>

int turns_init(struct turns *tu, uint64_t quantum, uint64_t max_ms, size_t cap)
{
    memset(tu, 0, sizeof *tu);
    tu->quantum = quantum > 0 ? quantum : 1;
    tu->max_ms = max_ms;
    tu->cap = cap > 0 ? cap : 1;
    tu->waiting = calloc(tu->cap, sizeof *tu->waiting);
    return tu->waiting == NULL ? -1 : 0;
}

void turns_free(struct turns *tu)
{
    free(tu->waiting);
    memset(tu, 0, sizeof *tu);
}

/* Returns the place of key in the queue, or nwaiting when it is not there. */
static size_t find_waiting(const struct turns *tu, uint64_t key)
{
    size_t i = 0;
    while (i < tu->nwaiting && tu->waiting[i] != key)
        i++;
    return i;
}

/* Removes the queue's entry at place i, keeping the order of the others. */
static void remove_waiting(struct turns *tu, size_t i)
{
    memmove(&tu->waiting[i], &tu->waiting[i + 1], (tu->nwaiting - i - 1) * sizeof *tu->waiting);
    tu->nwaiting--;
}

/* Starts a turn for key, which leaves the queue if it was in it. */
static void begin_turn(struct turns *tu, uint64_t key, uint64_t now_ms)
{
    size_t i = find_waiting(tu, key);
    if (i < tu->nwaiting)
        remove_waiting(tu, i);
    tu->holder = key;
    tu->used = 0;
    tu->since_ms = now_ms;
}

/* Gives the turn to the connection that waited longest, or to nobody. Returns its key, or 0. */
static uint64_t pass_turn(struct turns *tu, uint64_t now_ms)
{
    if (tu->nwaiting == 0) {
        tu->holder = 0;
        return 0;
    }
    begin_turn(tu, tu->waiting[0], now_ms);
    return tu->holder;
}

bool turns_ask(struct turns *tu, uint64_t key, uint64_t now_ms)
{
    if (tu->holder == key)
        return true;
    /* A turn older than max_ms is taken over: its holder's blocks are not leaving. The clock
     * may go backwards between threads' readings, hence the first test. */
    bool stale = now_ms > tu->since_ms && now_ms - tu->since_ms > tu->max_ms;
    if (tu->holder == 0 || stale) {
        begin_turn(tu, key, now_ms);
        return true;
    }
    /* A full queue (more connections than cap) cannot happen when cap is the connection limit;
     * if it did, the connection would simply ask again, and be let in by a free or stale turn. */
    if (find_waiting(tu, key) == tu->nwaiting && tu->nwaiting < tu->cap)
        tu->waiting[tu->nwaiting++] = key;
    return false;
}

uint64_t turns_used(struct turns *tu, uint64_t key, uint64_t bytes, uint64_t now_ms)
{
    if (tu->holder != key)
        return tu->holder; /* its turn was taken over meanwhile */
    tu->used += bytes;
    if (tu->used < tu->quantum)
        return key;
    if (tu->nwaiting == 0) { /* nobody waits: a new turn for the same connection */
        tu->used = 0;
        tu->since_ms = now_ms;
        return key;
    }
    return pass_turn(tu, now_ms);
}

uint64_t turns_done(struct turns *tu, uint64_t key, uint64_t now_ms)
{
    if (tu->holder != key)
        return 0;
    return pass_turn(tu, now_ms);
}

uint64_t turns_forget(struct turns *tu, uint64_t key, uint64_t now_ms)
{
    size_t i = find_waiting(tu, key);
    if (i < tu->nwaiting)
        remove_waiting(tu, i);
    return turns_done(tu, key, now_ms);
}
