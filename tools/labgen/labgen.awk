# labgen.awk - turns one reference source file into its lab version.
#
# The reference code marks the body of each function a student writes:
#
#     int net_listen(const char *host, const char *port, int socktype, char *err, size_t errlen)
#     {
#         //> lab1
#         ...the reference body...
#         //< lab1
#     }
#
# "//> labN returns VALUE" sets what the stub returns, for a function whose failing value is not
# the default (-1 for numbers, NULL for pointers, nothing for void). Variables:
#   upto=K   blocks of labs 1..K are written out in full; blocks of later labs become stubs
#            (a lab's starter uses K = N-1, its solution K = N);
#   list=1   print "labN function" for every block instead of the file.
# Marker lines never reach the output. The stub casts each parameter to void and returns the
# failing value, so the starter compiles with -Wall -Wextra -Werror. A file-scope static that only
# stubbed code used (a helper, a lock) is cast to void in the first stub that used it, so that it
# is not "defined but not used" either.

function fail(msg) {
    printf "labgen: %s:%d: %s\n", FILENAME, i, msg > "/dev/stderr"
    failed = 1
    exit 1
}

# Returns s with // and /* */ comments and string literals removed, roughly: enough to count
# identifiers in code.
function code_only(s) {
    gsub(/"([^"\\]|\\.)*"/, "\"\"", s)
    gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, "", s)
    sub(/\/\/.*/, "", s)
    if (s ~ /^[ \t]*(\/\*|\*)/)
        return ""
    return s
}

function uses(s, name) {
    return (" " s " ") ~ ("[^A-Za-z0-9_]" name "[^A-Za-z0-9_]")
}

# Collects the function header that ends on line k-1 (the line before a "{" at column 0).
function header_before(k,    j, h) {
    h = ""
    for (j = k - 1; j >= 1; j--) {
        if (line[j] ~ /^[ \t]*$/ || line[j] ~ /\*\/[ \t]*$/ || line[j] ~ /^#/ || line[j] ~ /[;}][ \t]*$/ || line[j] ~ /^[ \t]*\/\//)
            break
        h = line[j] " " h
    }
    gsub(/[ \t]+/, " ", h)
    return h
}

{ line[NR] = $0 }

END {
    if (failed)
        exit 1
    n = NR
    nblocks = 0
    # Pass 1: blocks, the function each one is the body of, and file-scope statics.
    for (i = 1; i <= n; i++) {
        s = line[i]
        if (s ~ /^[ \t]*\/\/> lab[0-9]+/) {
            if (open)
                fail("\"//>\" inside another lab block")
            if (i == 1 || line[i - 1] != "{")
                fail("a lab block must start right after the \"{\" that opens a function")
            open = 1
            nblocks++
            b_start[nblocks] = i
            t = s
            sub(/^[ \t]*\/\/> lab/, "", t)
            b_lab[nblocks] = t + 0
            b_ret[nblocks] = ""
            if (t ~ /^[0-9]+ returns /) {
                sub(/^[0-9]+ returns /, "", t)
                b_ret[nblocks] = t
            } else if (t !~ /^[0-9]+[ \t]*$/)
                fail("expected \"//> labN\" or \"//> labN returns VALUE\"")
            b_indent[nblocks] = s
            sub(/\/\/.*/, "", b_indent[nblocks])
            b_header[nblocks] = header_before(i - 1)
        } else if (s ~ /^[ \t]*\/\/< lab[0-9]+/) {
            t = s
            sub(/^[ \t]*\/\/< lab/, "", t)
            if (!open || t + 0 != b_lab[nblocks])
                fail("\"//< lab" (t + 0) "\" does not close an open \"//> lab" (t + 0) "\"")
            if (i == n || line[i + 1] != "}")
                fail("a lab block must end right before the \"}\" that closes its function")
            open = 0
            b_end[nblocks] = i
        }
        if (s ~ /^static / && s !~ /;[ \t]*$/ || s ~ /^static .*=/ || s ~ /^static [^(]*;[ \t]*$/) {
            t = s
            sub(/[(=\[;].*/, "", t)
            sub(/[ \t]+$/, "", t)
            sub(/.*[ *]/, "", t)
            nstatics++
            st_name[nstatics] = t
            st_start[nstatics] = i
            st_end[nstatics] = i
            if (s ~ /\(/ && s !~ /=/) {
                for (j = i + 1; j <= n && line[j] != "}"; j++)
                    ;
                st_end[nstatics] = j
            }
        }
    }
    if (open)
        fail("a \"//> lab\" block is never closed")

    for (k = 1; k <= nblocks; k++) {
        h = b_header[k]
        p = index(h, "(")
        if (p == 0)
            fail("no function header before the block that starts on line " b_start[k])
        pre = substr(h, 1, p - 1)
        sub(/[ \t]+$/, "", pre)
        name = pre
        sub(/.*[ *]/, "", name)
        rtype = substr(pre, 1, length(pre) - length(name))
        gsub(/(^| )(static|inline) /, " ", rtype)
        gsub(/^[ \t]+|[ \t]+$/, "", rtype)
        b_name[k] = name
        args = substr(h, p + 1)
        sub(/\)[ \t]*$/, "", args)
        b_nparams[k] = 0
        if (args != "void") {
            np = split(args, a, ",")
            for (q = 1; q <= np; q++) {
                arg = a[q]
                sub(/\[[^]]*\][ \t]*$/, "", arg)
                sub(/[ \t]+$/, "", arg)
                if (!match(arg, /[A-Za-z_][A-Za-z0-9_]*$/))
                    fail("cannot find the name of parameter \"" a[q] "\" of " name)
                b_param[k, q] = substr(arg, RSTART, RLENGTH)
            }
            b_nparams[k] = np
        }
        if (b_ret[k] == "") {
            if (rtype == "void")
                b_ret[k] = ""
            else if (rtype ~ /\*/)
                b_ret[k] = "NULL"
            else if (rtype ~ /^(enum|struct|union) /)
                fail(name " returns " rtype ": say what its stub returns with \"//> labN returns VALUE\"")
            else
                b_ret[k] = "-1"
        }
        b_stub[k] = b_lab[k] > upto
        if (list)
            printf "lab%d %s\n", b_lab[k], name
    }
    if (list)
        exit 0

    # A line is dropped from the output when it is in the body of a stubbed block.
    for (k = 1; k <= nblocks; k++)
        if (b_stub[k])
            for (i = b_start[k] + 1; i < b_end[k]; i++)
                stubbed[i] = k

    # Statics that the output no longer uses get cast to void in the first stub that used them.
    for (s = 1; s <= nstatics; s++) {
        used_outside = 0
        first = 0
        for (i = 1; i <= n; i++) {
            if (i >= st_start[s] && i <= st_end[s])
                continue
            c = code_only(line[i])
            if (c == "" || !uses(c, st_name[s]))
                continue
            if (i in stubbed) {
                if (!first || stubbed[i] < first)
                    first = stubbed[i]
            } else
                used_outside = 1
        }
        if (!used_outside && first)
            b_voids[first] = b_voids[first] " " st_name[s]
    }

    for (i = 1; i <= n; i++) {
        if (i in stubbed)
            continue
        for (k = 1; k <= nblocks; k++)
            if (i == b_start[k] || i == b_end[k])
                break
        if (k > nblocks) {
            print line[i]
            continue
        }
        if (i == b_end[k] || !b_stub[k])
            continue
        ind = b_indent[k]
        printf "%s/* TODO(lab%d): write %s(). README.md says what it must do. */\n", ind, b_lab[k], b_name[k]
        for (q = 1; q <= b_nparams[k]; q++)
            printf "%s(void)%s;\n", ind, b_param[k, q]
        nv = split(b_voids[k], v, " ")
        for (q = 1; q <= nv; q++)
            printf "%s(void)%s; /* used by the code you write here */\n", ind, v[q]
        if (b_ret[k] != "")
            printf "%sreturn %s;\n", ind, b_ret[k]
    }
}
