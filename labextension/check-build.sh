#!/usr/bin/env bash
# Rebuild the side panel and fail if the output differs from the committed jupyter_syft/labextension
# (an edited source whose build was not committed, or a build that is not reproducible).
set -euo pipefail
cd "$(dirname "$0")"
bash build.sh
cd "$(git rev-parse --show-toplevel)"
out=jupyter_syft/labextension
status=0
if ! git diff --exit-code --stat -- "$out"; then
  status=1
fi
untracked=$(git ls-files --others --exclude-standard -- "$out")
if [ -n "$untracked" ]; then
  echo "untracked files in $out:"
  echo "$untracked"
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "FAIL: $out differs from the committed build; run labextension/build.sh and commit $out" >&2
else
  echo "OK: $out matches the committed build"
fi
exit "$status"
