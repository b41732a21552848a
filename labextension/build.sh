#!/usr/bin/env bash
# Build the "Syft" side panel into ../jupyter_syft/labextension, the prebuilt extension that the
# wheel ships (so `pip install` needs no Node). Needs Node >= 18 and npm; no Python.
#
# The JupyterLab core metadata (which packages are shared singletons, and their versions) comes
# from @jupyterlab/core-meta, pinned in package-lock.json like everything else, so the output
# is the same on every machine. CORE_PACKAGE_FILE=/path/to/jupyterlab/staging/package.json
# builds against another JupyterLab instead (the output then differs from the committed one).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --ignore-scripts --no-audit --no-fund
core_package_file=${CORE_PACKAGE_FILE:-node_modules/@jupyterlab/core-meta/core.package.json}
node node_modules/@jupyter/builder/lib/build-labextension.js --core-package-file "$core_package_file" .
