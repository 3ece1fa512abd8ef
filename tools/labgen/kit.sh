#!/bin/sh
# kit.sh - what an instructor hands out: a lab's folder for students, and a Gradescope autograder.
# Run it from the toolkit's top folder (make student-kit LAB=N, make autograder LAB=N).
#
#   sh tools/labgen/kit.sh student-kit N OUTDIR   OUTDIR/labN-NAME.tar.gz: lab N's folder as a
#                                                 student receives it (no build products)
#   sh tools/labgen/kit.sh autograder N OUTDIR    OUTDIR/labN-NAME-autograder.zip: setup.sh,
#                                                 run_autograder and the lab's starter in lab/
#
# The zip is written with zip(1) when it is installed, and with python3's zipfile otherwise.
set -eu
here=$(dirname "$0")
die() {
    echo "kit: $*" >&2
    exit 1
}
[ $# -eq 3 ] || die "usage: kit.sh student-kit|autograder N OUTDIR"
cmd=$1 n=$2 out=$3
folder=$(sh "$here/labgen.sh" get "$n" folder) || die "no lab $n in tools/labgen/labs.conf"
[ -d "labs/$folder" ] || die "labs/$folder is missing: run make handouts"
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The folder as generated, without anything a build or a grading run left in it.
mkdir -p "$tmp/$folder"
(cd "labs/$folder" && tar cf - .) | (cd "$tmp/$folder" && tar xf -)
(cd "$tmp/$folder" && rm -rf bin build results.json results.tap)

case $cmd in
student-kit)
    (cd "$tmp" && tar czf "$out/$folder.tar.gz" "$folder")
    echo "kit: wrote $out/$folder.tar.gz"
    ;;
autograder)
    mkdir -p "$tmp/zip"
    mv "$tmp/$folder" "$tmp/zip/lab"
    cp "$here/autograder/setup.sh" "$here/autograder/run_autograder" "$tmp/zip/"
    chmod +x "$tmp/zip/setup.sh" "$tmp/zip/run_autograder"
    zipf=$out/$folder-autograder.zip
    rm -f "$zipf"
    if command -v zip >/dev/null 2>&1; then
        (cd "$tmp/zip" && zip -qr "$zipf" .)
    elif command -v python3 >/dev/null 2>&1; then
        # The modes are kept, so that run_autograder stays executable.
        (cd "$tmp/zip" && python3 -c '
import os, stat, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for d, dirs, files in os.walk("."):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            info = zipfile.ZipInfo.from_file(p, os.path.relpath(p, "."))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, "rb") as fh:
                z.writestr(info, fh.read())
' "$zipf")
    else
        die "neither zip nor python3 is installed: install one to write the autograder zip"
    fi
    echo "kit: wrote $zipf"
    ;;
*) die "unknown command $cmd (student-kit or autograder)" ;;
esac
