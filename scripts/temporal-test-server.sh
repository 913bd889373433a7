#!/usr/bin/env bash
# Ensures the Temporal test server, the time-skipping server that workflow tests run against
# (TestWorkflowEnvironment.createTimeSkipping), and prints the path of a launcher the SDK starts with a port.
# The SDK would download a native build; with no such download here, it is the same server from Maven
# Central (io.temporal:temporal-test-server), run by a JVM. Order: $SCIOPS_TEST_SERVER_PATH, the cached
# launcher, a resolve through Maven (seconds once; installs a JRE and Maven from Debian when missing).
source "$(dirname "$0")/lib.sh"

VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.32.0}"
dir="$SCIOPS_CACHE_DIR/temporal-test-server-$VERSION"
launcher="$dir/temporal-test-server"

if [ -n "${SCIOPS_TEST_SERVER_PATH:-}" ]; then
  [ -x "$SCIOPS_TEST_SERVER_PATH" ] || die "SCIOPS_TEST_SERVER_PATH=$SCIOPS_TEST_SERVER_PATH is not an executable file"
  echo "$SCIOPS_TEST_SERVER_PATH"; exit 0
fi
if [ -x "$launcher" ]; then echo "$launcher"; exit 0; fi

command -v java >/dev/null 2>&1 || apt_install default-jre-headless
command -v mvn >/dev/null 2>&1 || apt_install maven
mkdir -p "$dir"
log "resolving io.temporal:temporal-test-server:$VERSION from Maven Central"
mvn -q -B -f "$SCIOPS_ROOT/scripts/temporal-test-server/pom.xml" -Dmaven.repo.local="$dir/repository" \
  -Dtemporal.test.server.version="$VERSION" dependency:build-classpath -Dmdep.outputFile="$dir/classpath" >&2 \
  || die "Maven could not resolve io.temporal:temporal-test-server:$VERSION (see its output above); set SCIOPS_TEST_SERVER_PATH to a test server"
# The SDK runs `<launcher> <port>`, which is what TestServer's main takes.
cat > "$launcher.tmp" <<LAUNCHER
#!/bin/sh
exec java -cp "\$(cat '$dir/classpath')" io.temporal.testserver.TestServer "\$@"
LAUNCHER
chmod +x "$launcher.tmp"
mv "$launcher.tmp" "$launcher"
echo "$launcher"
