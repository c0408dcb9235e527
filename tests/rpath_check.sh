#!/usr/bin/env bash
# Checks the RPATH/RUNPATH of every tool and plugin under a build or install tree: each entry
# must be an absolute directory or start with $ORIGIN. An empty entry (a leading, trailing or
# doubled ':') or a relative one makes the loader search the current directory, so a library
# dropped there would run inside the tool.
set -euo pipefail
tree=$1
files=()
for f in "$tree"/bin/pjit-* "$tree"/lib/pjit/plugins/*.so; do
  [ -f "$f" ] && files+=("$f")
done
[ ${#files[@]} -ge 4 ] || { echo "rpath_check: found only ${#files[@]} tools and plugins under $tree"; exit 1; }
status=0
for f in "${files[@]}"; do
  while IFS= read -r path; do
    if [[ "$path" == :* || "$path" == *: || "$path" == *::* ]]; then
      echo "rpath_check: $f: RPATH '$path' has an empty entry (the current directory)"
      status=1
    fi
    while IFS= read -r entry; do
      if [ -n "$entry" ] && [[ "$entry" != /* && "$entry" != '$ORIGIN'* ]]; then
        echo "rpath_check: $f: RPATH entry '$entry' is relative to the current directory"
        status=1
      fi
    done < <(tr ':' '\n' <<< "$path")
  done < <(readelf -d "$f" | sed -n 's/.*(R\(UN\)\{0,1\}PATH).*\[\(.*\)\]$/\2/p')
done
exit $status
