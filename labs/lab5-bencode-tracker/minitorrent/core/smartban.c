/*
 * smartban.c - the record of who sent which block, and the verdicts drawn from it.
 */
#include "smartban.h"
#include "sha1.h"

#include <stdlib.h>
#include <string.h>

enum { DEFAULT_SUSPECTS = 16 };

int smartban_init(struct smartban *sb, uint32_t piece_count, uint32_t piece_length,
                  uint64_t total_length, size_t max_suspects)
{
    memset(sb, 0, sizeof *sb);
    sb->piece_count = piece_count;
    sb->piece_length = piece_length;
    sb->total_length = total_length;
    sb->blocks_per_piece = (piece_length + SMARTBAN_BLOCK_LEN - 1) / SMARTBAN_BLOCK_LEN;
    sb->max_suspects = max_suspects ? max_suspects : DEFAULT_SUSPECTS;
    sb->block_from = calloc((size_t)piece_count * sb->blocks_per_piece + 1, sizeof *sb->block_from);
    sb->suspects = calloc(sb->max_suspects, sizeof *sb->suspects);
    if (sb->block_from == NULL || sb->suspects == NULL) {
        smartban_free(sb);
        return -1;
    }
    return 0;
}

void smartban_free(struct smartban *sb)
{
    for (size_t i = 0; sb->suspects != NULL && i < sb->max_suspects; i++) {
        free(sb->suspects[i].from);
        free(sb->suspects[i].digest);
    }
    free(sb->suspects);
    free(sb->block_from);
    sb->suspects = NULL;
    sb->block_from = NULL;
}

/* Returns the size of piece index (the last one is usually shorter). */
static uint32_t piece_size(const struct smartban *sb, uint32_t index)
{
    uint64_t start = (uint64_t)index * sb->piece_length;
    uint64_t left = sb->total_length > start ? sb->total_length - start : 0;
    return left < sb->piece_length ? (uint32_t)left : sb->piece_length;
}

/* Returns the number of blocks in piece index. */
static uint32_t block_count(const struct smartban *sb, uint32_t index)
{
    return (piece_size(sb, index) + SMARTBAN_BLOCK_LEN - 1) / SMARTBAN_BLOCK_LEN;
}

/* Writes the SHA-1 of block b of piece index, held in piece. */
static void block_digest(const struct smartban *sb, uint32_t index, const unsigned char *piece,
                         uint32_t b, unsigned char out[20])
{
    uint32_t size = piece_size(sb, index), begin = b * SMARTBAN_BLOCK_LEN;
    sha1(piece + begin, size - begin < SMARTBAN_BLOCK_LEN ? size - begin : SMARTBAN_BLOCK_LEN, out);
}

/* Returns the suspect record of piece index, or NULL. */
static struct smartban_suspect *find_suspect(const struct smartban *sb, uint32_t index)
{
    for (size_t i = 0; i < sb->max_suspects; i++)
        if (sb->suspects[i].used && sb->suspects[i].index == index)
            return &sb->suspects[i];
    return NULL;
}

/* Adds peer to the culprit list unless it is there already or the list is full. */
static void add_culprit(uint64_t *culprits, size_t *n, uint64_t peer)
{
    if (peer == 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (culprits[i] == peer)
            return;
    if (*n < SMARTBAN_MAX_CULPRITS)
        culprits[(*n)++] = peer;
}

enum smartban_verdict smartban_admit(enum smartban_origin origin)
{
    switch (origin) {
    case SMARTBAN_REQUESTED:
        return SMARTBAN_KEEP;
    case SMARTBAN_WITHDRAWN:
        /* Honest: the peer sent it before our CANCEL or its own CHOKE took effect. Its request
         * went back to the picker, which may have asked someone else; keeping this copy too
         * would be a block nobody is now waiting for, so it is dropped. (Real clients may keep
         * such a block when the piece still lacks it; dropping costs one block at worst.) */
        return SMARTBAN_DROP;
    case SMARTBAN_UNREQUESTED:
    default:
        /* No honest client sends a block that was never asked for (without BEP 6's fast
         * extension, which we do not speak). Kept, it could spoil a piece in progress while
         * the blame for the failed hash spread over the honest senders of the other blocks. */
        return SMARTBAN_STRIKE;
    }
}

void smartban_stored(struct smartban *sb, uint64_t peer, uint32_t index, uint32_t begin)
{
    if (index >= sb->piece_count || begin % SMARTBAN_BLOCK_LEN != 0 ||
        begin / SMARTBAN_BLOCK_LEN >= block_count(sb, index))
        return;
    sb->block_from[(size_t)index * sb->blocks_per_piece + begin / SMARTBAN_BLOCK_LEN] = peer;
}

size_t smartban_failed(struct smartban *sb, uint32_t index, const unsigned char *piece,
                       uint64_t *culprits)
{
    size_t n = 0;
    if (index >= sb->piece_count)
        return 0;
    const uint64_t *from = sb->block_from + (size_t)index * sb->blocks_per_piece;
    uint32_t nblocks = block_count(sb, index);
    struct smartban_suspect *again = find_suspect(sb, index);
    if (again != NULL)
        again->refetcher = 0; /* the next attempt goes to whichever peer asks first */
    bool alone = true;
    for (uint32_t b = 1; b < nblocks; b++)
        alone = alone && from[b] == from[0];
    if (alone) {
        add_culprit(culprits, &n, from[0]);
        return n;
    }
    /* A piece that fails again with several senders keeps its first record: the fetch from one
     * peer alone that follows either passes (and the record names the liars) or fails with one
     * sender, who is then known. */
    if (again != NULL)
        return 0;
    /* A free slot, or else one picked by the index: the records are a bounded, best-effort
     * memory, and losing one only lets a liar go unpunished for that piece. */
    struct smartban_suspect *s = &sb->suspects[index % sb->max_suspects];
    for (size_t i = 0; i < sb->max_suspects; i++)
        if (!sb->suspects[i].used) {
            s = &sb->suspects[i];
            break;
        }
    if (s->from == NULL) {
        s->from = malloc(sb->blocks_per_piece * sizeof *s->from);
        s->digest = malloc(sb->blocks_per_piece * sizeof *s->digest);
        if (s->from == NULL || s->digest == NULL) {
            free(s->from);
            free(s->digest);
            s->from = NULL;
            s->digest = NULL;
            s->used = false;
            return 0;
        }
    }
    s->used = true;
    s->index = index;
    s->refetcher = 0;
    memcpy(s->from, from, nblocks * sizeof *from);
    for (uint32_t b = 0; b < nblocks; b++)
        block_digest(sb, index, piece, b, s->digest[b]);
    return 0;
}

size_t smartban_passed(struct smartban *sb, uint32_t index, const unsigned char *piece,
                       uint64_t *culprits)
{
    size_t n = 0;
    struct smartban_suspect *s = index < sb->piece_count ? find_suspect(sb, index) : NULL;
    if (s == NULL)
        return 0;
    uint32_t nblocks = block_count(sb, index);
    for (uint32_t b = 0; b < nblocks; b++) {
        unsigned char d[20];
        block_digest(sb, index, piece, b, d);
        if (memcmp(d, s->digest[b], 20) != 0)
            add_culprit(culprits, &n, s->from[b]); /* one strike per peer per piece */
    }
    s->used = false;
    return n;
}

const struct bitfield *smartban_offer(const struct smartban *sb, uint64_t peer,
                                      const struct bitfield *has, struct bitfield *scratch)
{
    bool copied = false;
    for (size_t i = 0; i < sb->max_suspects; i++) {
        const struct smartban_suspect *s = &sb->suspects[i];
        if (!s->used || s->refetcher == 0 || s->refetcher == peer)
            continue;
        if (!copied) {
            memcpy(scratch->bits, has->bits, has->nbytes);
            copied = true;
        }
        bitfield_clear(scratch, s->index);
    }
    return copied ? scratch : has;
}

void smartban_claim(struct smartban *sb, uint64_t peer, uint32_t index)
{
    struct smartban_suspect *s = find_suspect(sb, index);
    if (s != NULL && s->refetcher == 0)
        s->refetcher = peer;
}

void smartban_release(struct smartban *sb, uint64_t peer)
{
    for (size_t i = 0; i < sb->max_suspects; i++)
        if (sb->suspects[i].used && sb->suspects[i].refetcher == peer)
            sb->suspects[i].refetcher = 0;
}

bool smartban_is_suspect(const struct smartban *sb, uint32_t index)
{
    return find_suspect(sb, index) != NULL;
}
