/*
 * json_out.h - a tiny JSON writer for results files (`minitorrent swarm --json`).
 *
 * It writes as it goes, to a FILE, and keeps just enough state to put commas and line breaks in
 * the right places: one flag per nesting level saying whether a value was already written there.
 * Strings are escaped as RFC 8259 requires (quote, backslash, control characters), so a file
 * name with a quote in it still gives valid JSON. Numbers that JSON cannot hold (NaN, infinity)
 * are written as null, which is what a reader should see for "no value".
 *
 * Objects put each member on its own line; arrays stay on one line, which suits the short lists
 * of numbers a results file holds. A real program with bigger needs would use a library such as
 * cJSON or jansson.
 */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { JSON_MAX_DEPTH = 16 };

struct json_out {
    FILE *f;
    int depth;
    bool in_object[JSON_MAX_DEPTH]; /* is level i an object (else an array)? */
    bool has_items[JSON_MAX_DEPTH]; /* has level i a value already (so the next needs a comma)? */
    bool after_key;                 /* a key was written; its value comes next, without a comma */
    bool failed;                    /* misuse (too deep, a value where a key belongs) or I/O */
};

void json_out_init(struct json_out *j, FILE *f);

void json_begin_object(struct json_out *j);
void json_end_object(struct json_out *j);
void json_begin_array(struct json_out *j);
void json_end_array(struct json_out *j);

/* Writes an object member's key; the next call writes its value. */
void json_key(struct json_out *j, const char *key);

void json_string(struct json_out *j, const char *s);
void json_number(struct json_out *j, double v); /* NaN or infinite: null */
void json_uint(struct json_out *j, uint64_t v);
void json_bool(struct json_out *j, bool v);
void json_null(struct json_out *j);

/* Ends the document with a newline. Returns 0, or -1 when the writer was misused or a write
 * failed (checked with ferror, so a full disk is reported). */
int json_out_finish(struct json_out *j);

#endif
