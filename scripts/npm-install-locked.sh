#!/bin/sh
# Install the locked dependencies: `npm ci`, else `npm install` (same versions). Used by .ci/run and both Dockerfiles
# (docker/node-app.Dockerfile, docker/dashboard.Dockerfile), so the fallback exists once. Extra arguments go to both
# commands (e.g. --omit=dev). POSIX sh: the images run it with Debian's dash.
#
# Why: this workplace's npm registry serves only some platforms' optional binaries (the darwin and win32 builds of
# @swc/core answer 404), so package-lock.json cannot list them and `npm ci` refuses it as out of sync ("Missing:
# @swc/core-darwin-arm64@... from lock file"). `npm install` then installs exactly the locked versions
# (docs/development.md). With a lock that `npm ci` accepts, the first command simply succeeds.
set -eu
err="$(mktemp)"
trap 'rm -f "$err"' EXIT
if npm ci --no-audit --no-fund "$@" 2>"$err"; then
  cat "$err" >&2
  exit 0
fi
grep -m3 -E 'EUSAGE|Missing' "$err" >&2 || cat "$err" >&2
echo "npm ci refused the lock file (platform binaries missing from this registry); installing the locked versions with npm install" >&2
npm install --no-audit --no-fund "$@"
