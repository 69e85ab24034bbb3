#!/usr/bin/env bash
# Runs every test: unit and end-to-end (AWS SDK for JavaScript v3), the Vitest
# and Jest examples of the library, then the
# Python client suites (boto3, AWS CLI; then boto 2 on Debian's own Python).
# Installs what the tests need when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v aws >/dev/null 2>&1 || need_apt+=(awscli)
python3 -c 'import boto3' 2>/dev/null || need_apt+=(python3-boto3)
python3 -c 'import pytest' 2>/dev/null || need_apt+=(python3-pytest)
# POST Object forms are sent the way Python code sends them: requests' files=.
python3 -c 'import requests' 2>/dev/null || need_apt+=(python3-requests)
# boto 2.49 is Debian's python3-boto: it runs on Debian's /usr/bin/python3, not
# on the pyenv python3 first on PATH, so it gets that Python's pytest too.
/usr/bin/python3 -c 'import boto' 2>/dev/null || need_apt+=(python3-boto)
/usr/bin/python3 -m pytest --version >/dev/null 2>&1 || need_apt+=(python3-pytest)
# The browser tests drive Debian's Chromium through playwright-core (no browser download).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Multipart uploads through rclone's and git-annex's own S3 clients (test/python/test_rclone_git_annex.py).
command -v rclone >/dev/null 2>&1 || need_apt+=(rclone)
command -v git-annex >/dev/null 2>&1 || need_apt+=(git-annex)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent

node --test --test-concurrency=1 dist/test/
# The library as users' suites use it: the Vitest and Jest examples (Jest runs ES modules through vm modules).
# The Vitest example is type-checked as a user's TypeScript project would check it (against dist/src/index.d.ts).
npx tsc -p test/vitest
npx vitest run --root test/vitest
NODE_OPTIONS=--experimental-vm-modules npx jest --config test/jest/jest.config.mjs
python3 -m pytest -q test/python --ignore=test/python/boto2
# --rootdir keeps test/python/conftest.py (the server fixture) in reach whatever
# pytest's version (from pytest 8, conftest lookup stops at the rootdir).
/usr/bin/python3 -m pytest -q --rootdir=test/python test/python/boto2
