#!/usr/bin/env bash
# The test suite, from a fresh machine: installs what the tests need, then runs them.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k points`).
#
# Some tests run SQL against a real PostgreSQL server and a real local Spark, and open the
# report in a real headless Chromium and render its PDF with pdftoppm (docs/testing.md).
# When the PostgreSQL server programs (initdb, pg_ctl), Java, Chromium, chromedriver,
# pdftoppm or fonts are missing, this installs Debian's `postgresql`,
# `default-jre-headless`, `chromium`, `chromium-driver`, `poppler-utils` and
# `fonts-dejavu-core` (only those missing, in one apt-get run) if it can (root, or sudo
# without a password); if it cannot, it warns and those tests skip.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[test]"

have_pg_server() {
    local name
    for name in initdb pg_ctl; do
        command -v "$name" >/dev/null 2>&1 && continue
        compgen -G "/usr/lib/postgresql/*/bin/$name" >/dev/null || return 1
    done
}

have_java() {
    if [[ -n "${JAVA_HOME:-}" ]]; then
        [[ -x "$JAVA_HOME/bin/java" ]]
    else
        command -v java >/dev/null 2>&1
    fi
}

have_fonts() {
    # Without any font Chromium and pdftoppm draw no text.
    command -v fc-list >/dev/null 2>&1 && [[ -n "$(fc-list 2>/dev/null)" ]]
}

warn_loudly() {
    {
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!! WARNING: $*"
        echo "!! The tests that need it will be SKIPPED (see docs/testing.md)."
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    } >&2
}

install_services() {
    local packages=()
    have_pg_server || packages+=(postgresql)
    have_java || packages+=(default-jre-headless)
    command -v chromium >/dev/null 2>&1 || packages+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
    command -v pdftoppm >/dev/null 2>&1 || packages+=(poppler-utils)
    have_fonts || packages+=(fonts-dejavu-core)
    ((${#packages[@]})) || return 0

    local as_root=()
    if ! command -v apt-get >/dev/null 2>&1; then
        warn_loudly "missing ${packages[*]} and no apt-get to install it"
        return 0
    elif [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            warn_loudly "missing ${packages[*]}; not root and no password-less sudo to install"
            return 0
        fi
    fi

    echo "Installing ${packages[*]} for the PostgreSQL/Spark/browser tests (apt-get)..." >&2
    local log
    log=$(mktemp)
    if "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 &&
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$log" 2>&1; then
        rm -f "$log"
    else
        tail -n 20 "$log" >&2
        rm -f "$log"
        warn_loudly "apt-get could not install ${packages[*]}"
        return 0
    fi
    have_pg_server || warn_loudly "PostgreSQL server programs (initdb, pg_ctl) still missing"
    have_java || warn_loudly "java still missing"
    local name
    for name in chromium chromedriver pdftoppm; do
        command -v "$name" >/dev/null 2>&1 || warn_loudly "$name still missing"
    done
    have_fonts || warn_loudly "no fonts found (fc-list): Chromium and pdftoppm will draw no text"
}

install_services

python -m ruff check src tests benchmarks
# Two workers (pytest-xdist): the suite runs in about half the time on two cores.
# Each worker starts its own throwaway services. pytest-benchmark, when some other
# package brought it in, disables itself under xdist with a warning (an error here).
python -m pytest -n "${CALIBRATE_TEST_WORKERS:-2}" -p no:benchmark "$@"
