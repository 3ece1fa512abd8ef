#!/bin/sh
# labgen.sh - writes the lab folders from the toolkit's reference sources (one source of
# truth). Run it from the toolkit's top folder.
#
#   sh tools/labgen/labgen.sh handouts [DIR]     every lab's starter into DIR (default labs/);
#                                                each folder's README.md is hand-written and kept
#   sh tools/labgen/labgen.sh starter N DIR      lab N's starter into DIR (a fresh folder)
#   sh tools/labgen/labgen.sh solution N DIR     lab N with its TODO bodies written: the solution
#   sh tools/labgen/labgen.sh functions N        "FILE FUNCTION" for each function lab N's student writes
#   sh tools/labgen/labgen.sh get N KEY          folder, title, grades (lab N's own test prefixes),
#                                                prefixes (labs 1..N's) or files (labs 1..N's)
#   sh tools/labgen/labgen.sh labs               the lab numbers, one a line
#
# labs.conf says which files and test prefixes each lab adds; labgen.awk turns each .c and .h file
# into its lab version (see the markers it describes); Makefile.lab and grade.sh are the same for
# every lab.
set -eu
here=$(dirname "$0")
conf=$here/labs.conf

die() {
    echo "labgen: $*" >&2
    exit 1
}

# conf_get N KEY: the value of KEY in lab N's stanza; for files and prefixes, labs 1..N together.
conf_get() {
    awk -v want="$1" -v key="$2" '
    /^[ \t]*(#|$)/ { next }
    $1 == "lab" { lab = $2 + 0; if (lab == want) found = 1; if (lab == want) folder = $3; next }
    {
        k = $1; v = $0; sub(/^[ \t]*[a-z]+[ \t]*/, "", v)
        if (lab == want && k == "title") title = v
        if (lab == want && k == "grades") grades = grades " " v
        if (lab <= want && k == "grades") prefixes = prefixes " " v
        if (lab <= want && k == "files") files = files " " v
    }
    END {
        if (!found) exit 1
        if (key == "folder") r = folder
        else if (key == "title") r = title
        else if (key == "grades") r = grades
        else if (key == "prefixes") r = prefixes
        else if (key == "files") r = files
        else exit 1
        gsub(/^[ \t]+|[ \t]+$/, "", r); gsub(/[ \t]+/, " ", r); print r
    }' "$conf" || die "no lab $1 with a key \"$2\" in $conf"
}

labs() {
    awk '$1 == "lab" { print $2 }' "$conf"
}

# write_lab N UPTO DIR: lab N's files into DIR, with the bodies of labs 1..UPTO written out.
write_lab() {
    n=$1 upto=$2 dir=$3
    files=$(conf_get "$n" files)
    mkdir -p "$dir"
    programs=""
    for f in $files; do
        [ -f "$f" ] || die "lab $n: $f is in labs.conf but not in the toolkit"
        mkdir -p "$dir/$(dirname "$f")"
        case $f in
        *.c | *.h) awk -v upto="$upto" -f "$here/labgen.awk" "$f" >"$dir/$f" ;;
        *) cp "$f" "$dir/$f" ;;
        esac
        case $f in
        tests/*) ;;
        *.c) grep -q '^int main(' "$f" && programs="$programs $(basename "$f" .c)" ;;
        esac
    done
    cp "$here/grade.sh" "$dir/tests/grade.sh"
    sed -e "s|@LAB@|$n|g" -e "s|@TITLE@|$(conf_get "$n" title)|g" \
        -e "s|@LAB_PREFIXES@|$(conf_get "$n" grades)|g" -e "s|@PREFIXES@|$(conf_get "$n" prefixes)|g" \
        -e "s|@PROGRAMS@|$(echo $programs)|g" "$here/Makefile.lab" >"$dir/Makefile"
    printf '/bin/\n/build/\n/results.json\n/results.tap\n' >"$dir/.gitignore"
    readme=labs/$(conf_get "$n" folder)/README.md
    if [ -f "$readme" ] && ! [ -f "$dir/README.md" ]; then
        cp "$readme" "$dir/README.md"
    fi
}

cmd=${1:-}
case $cmd in
handouts)
    out=${2:-labs}
    for n in $(labs); do
        folder=$(conf_get "$n" folder)
        tmp=$(mktemp -d)
        write_lab "$n" $((n - 1)) "$tmp/lab"
        mkdir -p "$out/$folder"
        # Everything but the hand-written README.md is replaced, so a file dropped from labs.conf
        # disappears from the folder too.
        find "$out/$folder" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
        rm -f "$tmp/lab/README.md"
        (cd "$tmp/lab" && tar cf - .) | (cd "$out/$folder" && tar xf -)
        rm -rf "$tmp"
        echo "labgen: wrote $out/$folder"
    done
    ;;
starter | solution)
    [ $# -eq 3 ] || die "usage: labgen.sh $cmd N DIR"
    [ ! -e "$3" ] || [ -z "$(ls -A "$3")" ] || die "$3 exists and is not empty"
    if [ "$cmd" = starter ]; then upto=$(($2 - 1)); else upto=$2; fi
    write_lab "$2" "$upto" "$3"
    ;;
functions)
    [ $# -eq 2 ] || die "usage: labgen.sh functions N"
    for f in $(conf_get "$2" files); do
        case $f in
        *.c | *.h) awk -v list=1 -f "$here/labgen.awk" "$f" | awk -v f="$f" -v n="lab$2" '$1 == n { print f, $2 }' ;;
        esac
    done
    ;;
get)
    [ $# -eq 3 ] || die "usage: labgen.sh get N KEY"
    conf_get "$2" "$3"
    ;;
labs)
    labs
    ;;
*)
    sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
