/*
 * json_out.c - writing JSON to a FILE with correct commas and escapes (see json_out.h).
 */
#include "json_out.h"

#include <inttypes.h>

void json_out_init(struct json_out *j, FILE *f)
{
    *j = (struct json_out){.f = f};
}

/* Writes a line break and two spaces per level, for members of an object. */
static void newline(struct json_out *j)
{
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Prepares for a value: a comma when one came before at this level, and in an object a check
 * that a key was written first. */
static void before_value(struct json_out *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth > 0) {
        if (j->in_object[j->depth - 1]) {
            j->failed = true; /* a value inside an object needs a key */
            return;
        }
        if (j->has_items[j->depth - 1])
            fputs(", ", j->f);
        j->has_items[j->depth - 1] = true;
    }
}

static void begin(struct json_out *j, bool object)
{
    before_value(j);
    if (j->depth == JSON_MAX_DEPTH) {
        j->failed = true;
        return;
    }
    fputc(object ? '{' : '[', j->f);
    j->in_object[j->depth] = object;
    j->has_items[j->depth] = false;
    j->depth++;
}

static void end(struct json_out *j, bool object)
{
    if (j->depth == 0 || j->in_object[j->depth - 1] != object || j->after_key) {
        j->failed = true;
        return;
    }
    j->depth--;
    if (object && j->has_items[j->depth])
        newline(j);
    fputc(object ? '}' : ']', j->f);
}

void json_begin_object(struct json_out *j)
{
    begin(j, true);
}

void json_end_object(struct json_out *j)
{
    end(j, true);
}

void json_begin_array(struct json_out *j)
{
    begin(j, false);
}

void json_end_array(struct json_out *j)
{
    end(j, false);
}

/* Writes s as a JSON string literal. The escapes are the ones RFC 8259 requires: the quote, the
 * backslash and every control character below 0x20. Bytes from 0x80 up are copied as they are,
 * which is right for UTF-8 text. */
static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_key(struct json_out *j, const char *key)
{
    if (j->depth == 0 || !j->in_object[j->depth - 1] || j->after_key) {
        j->failed = true;
        return;
    }
    if (j->has_items[j->depth - 1])
        fputc(',', j->f);
    j->has_items[j->depth - 1] = true;
    newline(j);
    write_string(j->f, key);
    fputs(": ", j->f);
    j->after_key = true;
}

void json_string(struct json_out *j, const char *s)
{
    before_value(j);
    write_string(j->f, s != NULL ? s : "");
}

void json_number(struct json_out *j, double v)
{
    /* NaN differs from itself, and infinity minus infinity is NaN: neither is a JSON number. */
    if (v != v || v - v != 0) {
        json_null(j);
        return;
    }
    before_value(j);
    /* %.17g would round-trip every double, but "12.3456" reads better than
     * "12.345600000000001" in a results file; six significant digits after the point suffice
     * for times measured in milliseconds. */
    fprintf(j->f, "%.6f", v);
}

void json_uint(struct json_out *j, uint64_t v)
{
    before_value(j);
    fprintf(j->f, "%" PRIu64, v);
}

void json_bool(struct json_out *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->f);
}

void json_null(struct json_out *j)
{
    before_value(j);
    fputs("null", j->f);
}

int json_out_finish(struct json_out *j)
{
    if (j->depth != 0 || j->after_key)
        j->failed = true;
    fputc('\n', j->f);
    if (fflush(j->f) != 0 || ferror(j->f))
        j->failed = true;
    return j->failed ? -1 : 0;
}
