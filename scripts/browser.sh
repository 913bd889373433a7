#!/usr/bin/env bash
# A headless browser for the Web UI test: Debian's chromium (test tools' own browser downloads cannot run
# here; playwright-core drives this one). Prints its path.
source "$(dirname "$0")/lib.sh"

chromium=${SCIOPS_TEST_CHROMIUM:-$(command -v chromium || true)}
if [ -z "$chromium" ]; then
  apt_install chromium
  chromium=$(command -v chromium) || die "chromium was installed but is not on PATH"
fi
"$chromium" --version >/dev/null 2>&1 || die "$chromium does not start: reinstall it (apt-get install --reinstall chromium)"
echo "$chromium"
