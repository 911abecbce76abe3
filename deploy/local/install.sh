#!/usr/bin/env bash
# Install what the local stack and the Python packages need, on Debian 12 or 13. Idempotent:
# every step checks first and does nothing when already done. Prints each step and its time.
#
#   deploy/local/install.sh            system packages, TimescaleDB, Kafka jars, Chromium and playwright-core, Python venv
#   deploy/local/install.sh --system   all but the Python venv
#
# Environment: CITYSENSE_STACK_DIR (default <repo>/.stack), CITYSENSE_VENV (default <repo>/.venv),
# PYTHON (default python3).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="${CITYSENSE_STACK_DIR:-$REPO/.stack}"
VENV="${CITYSENSE_VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$REPO/deploy/local/kafka/pom.xml")"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

step_start=0
step() { step_start=$(date +%s.%N); printf '[install] %s ...\n' "$*"; }
done_() { printf '[install]   done in %.1f s%s\n' "$(echo "$(date +%s.%N) - $step_start" | bc)" "${1:+ ($1)}"; }

APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  if [ $APT_UPDATED -eq 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  printf '[install]   apt-get install %s\n' "${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

newest_pg() { ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed 's:/usr/lib/postgresql/\([0-9]*\)/.*:\1:' | sort -n | tail -1; }

# bc is used for the timings above; make sure it is there first (silently).
command -v bc >/dev/null || { $SUDO apt-get update -qq; APT_UPDATED=1; $SUDO apt-get install -y -qq bc >/dev/null; }

step "Debian packages: mosquitto, kcat, Java, Maven, PostgreSQL, build tools"
command -v java >/dev/null || apt_install default-jre-headless
apt_install mosquitto mosquitto-clients kcat maven postgresql postgresql-contrib openssl ca-certificates xz-utils
done_

PGV="$(newest_pg)"
PGLIB="/usr/lib/postgresql/$PGV/lib"
step "TimescaleDB for PostgreSQL $PGV"
if [ -f "$PGLIB/timescaledb.so" ]; then
  done_ "already installed: $(ls "$PGLIB"/timescaledb-*.so | xargs -n1 basename | tr '\n' ' ')"
else
  if [ $APT_UPDATED -eq 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi
  if apt-cache show "postgresql-$PGV-timescaledb" >/dev/null 2>&1; then
    apt_install "postgresql-$PGV-timescaledb"
    done_ "Debian package postgresql-$PGV-timescaledb"
  else
    # Debian 12 has no package: build Debian 13's source package, fetched through a private apt
    # configuration (the system's apt sources are not touched).
    apt_install "postgresql-server-dev-$PGV" cmake gcc make dpkg-dev libssl-dev
    BUILD="$STACK/build/timescaledb"; APTDIR="$BUILD/apt"
    rm -rf "$BUILD"; mkdir -p "$APTDIR/lists/partial" "$BUILD/src"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$APTDIR/sources.list"
    APTOPT=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
            -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
            -o "APT::Sandbox::User=root")
    apt-get "${APTOPT[@]}" update -qq
    (cd "$BUILD/src" && apt-get "${APTOPT[@]}" source --download-only -qq timescaledb >/dev/null)
    (cd "$BUILD/src" && dpkg-source -x --no-check ./*.dsc ts >/dev/null)
    (cd "$BUILD/src/ts" && ./bootstrap -DCMAKE_BUILD_TYPE=Release -DPG_CONFIG="/usr/lib/postgresql/$PGV/bin/pg_config" \
        -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DSEND_TELEMETRY_DEFAULT=OFF \
        -DWARNINGS_AS_ERRORS=OFF >"$BUILD/cmake.log" 2>&1 \
      && cd build && make -j"$(nproc)" >"$BUILD/make.log" 2>&1 && $SUDO make install >>"$BUILD/make.log" 2>&1) \
      || { echo "[install] TimescaleDB build failed: see $BUILD/cmake.log and $BUILD/make.log" >&2; exit 1; }
    done_ "built $(ls "$BUILD"/src/*.dsc | xargs -n1 basename) with -DAPACHE_ONLY=1"
  fi
fi

step "Apache Kafka $KAFKA_VERSION jars from Maven Central"
LIBS="$STACK/kafka/libs"
if [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$LIBS/.complete" ]; then
  done_ "already in $LIBS"
else
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -q -B -f "$REPO/deploy/local/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime
  touch "$LIBS/.complete"
  done_ "$(ls "$LIBS"/*.jar | wc -l) jars in $LIBS"
fi

step "Chromium and playwright-core for the dashboard's browser tests"
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
apt_install chromium fonts-dejavu-core
WEB="$REPO/web"
WANT_WEB="$(sha256sum "$WEB/package-lock.json" | cut -c1-16)"
if [ -f "$WEB/node_modules/.citysense-installed" ] && [ "$(cat "$WEB/node_modules/.citysense-installed")" = "$WANT_WEB" ]; then
  done_ "up to date ($(/usr/bin/chromium --version 2>/dev/null))"
else
  mkdir -p "$STACK/logs"
  (cd "$WEB" && npm ci --no-audit --no-fund >"$STACK/logs/npm.log" 2>&1) \
    || { tail -20 "$STACK/logs/npm.log"; echo "[install] npm ci in web/ failed: see $STACK/logs/npm.log" >&2; exit 1; }
  echo "$WANT_WEB" > "$WEB/node_modules/.citysense-installed"
  done_ "$(/usr/bin/chromium --version 2>/dev/null); playwright-core $(node -p "require('$WEB/node_modules/playwright-core/package.json').version")"
fi

KUSTOMIZE_VERSION=5.7.1
step "kustomize $KUSTOMIZE_VERSION for validating deploy/k8s offline (built from the Go module proxy)"
KUSTOMIZE="$STACK/bin/kustomize"
if [ -x "$KUSTOMIZE" ] && "$KUSTOMIZE" version 2>/dev/null | grep -q "v$KUSTOMIZE_VERSION"; then
  done_ "up to date"
else
  command -v go >/dev/null || apt_install golang-go
  mkdir -p "$STACK/bin" "$STACK/logs"
  # the module cache stays outside the repository (go's default, ~/go/pkg/mod)
  GOBIN="$STACK/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@v$KUSTOMIZE_VERSION" >"$STACK/logs/kustomize.log" 2>&1 \
    || { tail -20 "$STACK/logs/kustomize.log"; echo "[install] building kustomize failed: see $STACK/logs/kustomize.log" >&2; exit 1; }
  done_ "$("$KUSTOMIZE" version)"
fi

[ "${1:-}" = "--system" ] && exit 0

step "Python virtual environment $VENV with citysense and its test extras"
STAMP="$VENV/.citysense-installed"
WANT="$(sha256sum "$REPO/pyproject.toml" | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  done_ "up to date"
else
  [ -x "$VENV/bin/python" ] || { "$PYTHON" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; "$PYTHON" -m venv "$VENV"; }; }
  mkdir -p "$STACK/logs"
  { "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip \
    && "$VENV/bin/pip" install -q --disable-pip-version-check -e "$REPO[test]"; } >"$STACK/logs/pip.log" 2>&1 \
    || { tail -20 "$STACK/logs/pip.log"; echo "[install] pip install failed: see $STACK/logs/pip.log" >&2; exit 1; }
  echo "$WANT" > "$STAMP"
  done_ "$("$VENV/bin/pip" --disable-pip-version-check list 2>/dev/null | grep -E -i '^(paho-mqtt|aiokafka|faust-streaming|psycopg) ' | tr -s ' ' | tr '\n' ';')"
fi
