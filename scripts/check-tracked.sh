#!/usr/bin/env bash
# Fails when git tracks build output: compiled binaries (ELF, Mach-O, PE,
# archives), test binaries, coverage and profile files, node_modules, databases,
# or any file over the size limit that is not text. Run by `make lint`.
#
# Usage: scripts/check-tracked.sh [REPO]   (default: the current repository)
# HELLOGW_MAX_TRACKED_KB sets the size limit (default 200).
set -euo pipefail
cd "${1:-.}"

limit=$((${HELLOGW_MAX_TRACKED_KB:-200} * 1024))
bad=0
complain() { echo "tracked build output: $1: $2 (git rm --cached it, and ignore it in .gitignore)" >&2; bad=1; }

while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue # deleted in the work tree, or a submodule
  case "$f" in
    *.test | *.exe | *.o | *.a | *.so | *.dylib | *.dll) complain "$f" "a compiled file, by its name"; continue ;;
    *.out | *.prof | *.pprof | coverage.* | *.cover) complain "$f" "a coverage or profile file"; continue ;;
    node_modules/* | */node_modules/*) complain "$f" "node_modules"; continue ;;
    *.db | *.db-wal | *.db-shm | *.sqlite | *.sqlite3) complain "$f" "a database"; continue ;;
  esac
  # Executables and object files by their magic number, whatever their name:
  # ELF, Mach-O (32/64-bit, both byte orders, fat), PE ("MZ"), ar archives.
  magic=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
  case "$magic" in
    7f454c46* | feedface* | feedfacf* | cefaedfe* | cffaedfe* | cafebabe* | 4d5a* | 213c617263683e0a*)
      complain "$f" "an executable or object file"; continue ;;
  esac
  size=$(stat -c %s "$f")
  # Text is what holds no NUL byte; a large generated text file is still too
  # large for the repository, a large binary one even more so.
  if [ "$size" -gt "$limit" ]; then
    if head -c 65536 "$f" | tr -d '\000' | cmp -s - <(head -c 65536 "$f"); then
      complain "$f" "$((size / 1024)) KB of text, over the $((limit / 1024)) KB limit: generate it at test time"
    else
      complain "$f" "$((size / 1024)) KB, not text, over the $((limit / 1024)) KB limit"
    fi
  fi
done < <(git ls-files -z)

exit "$bad"
