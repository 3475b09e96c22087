#!/bin/sh
# Run every test autoenv has, on a fresh machine: installs what the tests need
# (zsh and fish where this user may install them, a development venv with the
# test dependencies), then runs pytest and, where pwsh exists, the PowerShell
# scenarios.  Arguments go to pytest:  ./test.sh -k fish -x
set -u

say() {
    printf 'test.sh: %s\n' "$1"
}

missing_shells() {
    # strace too: tests/test_structure.py counts the processes a shell starts with it;
    # direnv: tests/test_neighbours.py runs autoenv beside it.
    for shell in zsh fish strace direnv; do
        command -v "$shell" >/dev/null 2>&1 || printf '%s ' "$shell"
    done
}

install_shells() {
    missing=$(missing_shells)
    [ -n "$missing" ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $missing with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        # shellcheck disable=SC2086 # one word per shell
        if ! { apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null; }; then
            say "apt-get could not install $missing"
        fi
    fi
    missing=$(missing_shells)
    if [ -n "$missing" ]; then
        if [ "${CI:-}" = true ]; then
            say "missing under CI: $missing"
            exit 1
        fi
        say "not installed, their tests will be skipped: $missing(install them to run those)"
    fi
}

dev_venv() {
    python=${AUTOENV_PYTHON:-python3}
    if [ ! -x .venv/bin/python ]; then
        say "creating the development venv .venv"
        "$python" -m venv .venv || exit 1
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' || exit 1
}

# poetry, pipenv, pdm and hatch in a venv of their own, for the cross-check that
# autoenv finds exactly the env each of them makes (tests/test_others_realtools.py).
tools_venv() {
    if [ ! -x .venv-tools/bin/hatch ]; then
        say "installing poetry, pipenv, pdm and hatch into .venv-tools (once)"
        if ! { "${AUTOENV_PYTHON:-python3}" -m venv .venv-tools \
                && .venv-tools/bin/python -m pip install --quiet --disable-pip-version-check \
                    poetry pipenv pdm hatch; }; then
            say "could not install them; the cross-check with the real tools is skipped (fails under CI)"
        fi
    fi
    AUTOENV_TEST_TOOLS_BIN="$PWD/.venv-tools/bin"
    export AUTOENV_TEST_TOOLS_BIN
}

run_pwsh() {
    if command -v pwsh >/dev/null 2>&1; then
        say "running the PowerShell scenarios in tests/pwsh with $(command -v pwsh)"
        pwsh -NoProfile -NonInteractive -File tests/pwsh/run.ps1 -Autoenv "$PWD/.venv/bin/autoenv"
    else
        say "PowerShell live scenarios (tests/pwsh): NOT RUN, no pwsh on PATH; the pwsh snippet and output were checked by parsing only"
    fi
}

main() {
    cd "$(dirname "$0")" || exit 1
    install_shells
    dev_venv
    tools_venv
    # Test trees live in a temp dir of their own: a busy /tmp on a project's
    # path would make the shells re-ask the helper, which tests count.
    TMPDIR="${AUTOENV_TEST_TMPDIR:-/var/tmp/autoenv-tests-$(id -u)}"
    # Sticky and world-writable like /tmp: some tests run shells as another user.
    mkdir -p "$TMPDIR" && chmod 1777 "$TMPDIR" || exit 1
    export TMPDIR
    .venv/bin/python -m pytest "$@"
    status=$?
    [ "$status" -eq 0 ] || exit "$status"
    run_pwsh
}

main "$@"
