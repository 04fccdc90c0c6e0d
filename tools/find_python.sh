#!/bin/sh
# Print an interpreter for $1 (`python3.13`, or a path) that really runs, or
# nothing. `python3.X` on PATH may be a pyenv shim of a version that is
# installed but not enabled (the shim then refuses to run); pyenv's own copy
# of the newest 3.X.* is printed instead. The Makefile and .ci/run use it.
want=$1
runs() { "$1" -c 'import sys' >/dev/null 2>&1; }
if runs "$want"; then
    echo "$want"
    exit 0
fi
minor=$(expr "$want" : 'python\(3\.[0-9][0-9]*\)$') || exit 0
command -v pyenv >/dev/null 2>&1 || exit 0
pattern="^$(echo "$minor" | sed 's/\./\\./')(\.[0-9]+)?\$"
version=$(pyenv versions --bare 2>/dev/null | grep -E "$pattern" | sort -t. -k3,3n | tail -n 1)
found="$(pyenv root)/versions/$version/bin/$want"
if [ -n "$version" ] && runs "$found"; then
    echo "$found"
fi
