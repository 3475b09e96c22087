#!/bin/sh
# Install autoenv for the current user and hook it into every installed shell.
#
#   ./install.sh                 install (again: updates the package, changes nothing else)
#   ./install.sh --no-modify-rc  install, leave rc files alone, print the lines to add
#   ./install.sh --uninstall     remove exactly what an install added
#
# No sudo: everything goes under your home directory.
set -u

RC_TAG='# autoenv: added by install.sh'

say() {
    printf 'autoenv: %s\n' "$1"
}

err() {
    printf 'autoenv: error: %s\n' "$1" >&2
    exit 1
}

usage() {
    cat <<'EOF'
Usage: ./install.sh [--no-modify-rc] [--uninstall] [--help]

Installs autoenv into its own virtual environment under
${XDG_DATA_HOME:-~/.local/share}/autoenv, links the `autoenv` command into
~/.local/bin, and adds one init line to the start-up file of each shell found:

  bash  ~/.bashrc
  zsh   ${ZDOTDIR:-~}/.zshrc
  fish  ${XDG_CONFIG_HOME:-~/.config}/fish/conf.d/autoenv.fish
  pwsh  ${XDG_CONFIG_HOME:-~/.config}/powershell/Microsoft.PowerShell_profile.ps1

Options:
  --no-modify-rc  leave start-up files alone and print the lines to add
  --uninstall     remove the environment, the link and exactly the lines added
  -h, --help      show this help

Environment:
  AUTOENV_PYTHON  interpreter to install with (default: python3)
EOF
}

data_dir() {
    printf '%s/autoenv' "${XDG_DATA_HOME:-$HOME/.local/share}"
}

bin_link() {
    printf '%s/.local/bin/autoenv' "$HOME"
}

config_dir() {
    printf '%s' "${XDG_CONFIG_HOME:-$HOME/.config}"
}

# Quote for POSIX shells and fish: single quotes, with the quote itself escaped.
sh_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

fish_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")"
}

pwsh_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

# The line each shell runs at start-up.  It names the link by absolute path, so
# it works before ~/.local/bin is on PATH, and does nothing once it is gone.
init_line() {
    link=$(bin_link)
    case $1 in
        bash|zsh)
            quoted=$(sh_quote "$link")
            # shellcheck disable=SC2016
            printf '[ -x %s ] && eval "$(%s init %s)" %s' "$quoted" "$quoted" "$1" "$RC_TAG" ;;
        fish)
            quoted=$(fish_quote "$link")
            # conf.d is read by every fish, scripts too: hook interactive ones only.
            printf 'status is-interactive; and test -x %s; and %s init fish | source %s' \
                "$quoted" "$quoted" "$RC_TAG" ;;
        pwsh)
            quoted=$(pwsh_quote "$link")
            printf 'if (Test-Path -LiteralPath %s) { & %s init pwsh | Out-String | Invoke-Expression } %s' \
                "$quoted" "$quoted" "$RC_TAG" ;;
    esac
}

rc_file() {
    case $1 in
        bash) printf '%s/.bashrc' "$HOME" ;;
        zsh) printf '%s/.zshrc' "${ZDOTDIR:-$HOME}" ;;
        fish) printf '%s/fish/conf.d/autoenv.fish' "$(config_dir)" ;;
        pwsh) printf '%s/powershell/Microsoft.PowerShell_profile.ps1' "$(config_dir)" ;;
    esac
}

installed_shells() {
    for shell in bash zsh fish pwsh; do
        if command -v "$shell" >/dev/null 2>&1; then
            printf '%s\n' "$shell"
        fi
    done
}

find_python() {
    python=${AUTOENV_PYTHON:-python3}
    command -v "$python" >/dev/null 2>&1 || err "no $python found; set AUTOENV_PYTHON to a Python 3.8+"
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 8))' \
        || err "$python is older than 3.8"
    printf '%s' "$python"
}

install_package() {
    src=$1
    venv="$(data_dir)/venv"
    python=$(find_python) || exit 1
    if [ ! -x "$venv/bin/python" ]; then
        say "creating $venv"
        "$python" -m venv "$venv" || err "could not create $venv"
    fi
    say "installing autoenv from $src"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "$src" \
        || err "pip install failed"
    link=$(bin_link)
    mkdir -p "$(dirname "$link")" || err "cannot create $(dirname "$link")"
    ln -sf "$venv/bin/autoenv" "$link" || err "cannot link $link"
    say "linked $link"
}

# Append the init line once; a second run finds it and changes nothing.
add_line() {
    file=$1
    line=$2
    if [ -f "$file" ] && grep -Fqx -- "$line" "$file"; then
        say "already hooked: $file"
        return 0
    fi
    mkdir -p "$(dirname "$file")" || err "cannot create $(dirname "$file")"
    if [ -s "$file" ] && [ "$(tail -c 1 "$file" | od -An -c | tr -d ' ')" != '\n' ]; then
        printf '\n' >>"$file"
    fi
    printf '%s\n' "$line" >>"$file" || err "cannot write $file"
    say "hooked: $file"
}

# Remove exactly the lines add_line wrote, nothing else; a file that held only
# that line (fish's conf.d snippet) goes too.
remove_line() {
    file=$1
    line=$2
    [ -f "$file" ] || return 0
    grep -Fqx -- "$line" "$file" || return 0
    tmp="$file.autoenv-tmp.$$"
    grep -Fvx -- "$line" "$file" >"$tmp"
    if [ -s "$tmp" ]; then
        cat "$tmp" >"$file" && rm -f "$tmp"
    else
        rm -f "$tmp" "$file"
    fi
    say "unhooked: $file"
}

do_install() {
    modify_rc=$1
    src=$(cd "$(dirname "$0")" && pwd) || err "cannot find the checkout"
    install_package "$src"
    shells=$(installed_shells)
    if [ "$modify_rc" = yes ]; then
        for shell in $shells; do
            add_line "$(rc_file "$shell")" "$(init_line "$shell")"
        done
        say "done; open a new shell (or run the line now) and cd into a Python project"
    else
        say "start-up files left alone; add these lines yourself:"
        for shell in $shells; do
            printf '  %s: %s\n' "$(rc_file "$shell")" "$(init_line "$shell")"
        done
    fi
    case ":$PATH:" in
        *":$HOME/.local/bin:"*) ;;
        *) say "note: $HOME/.local/bin is not on your PATH; the hook works anyway, add it to run 'autoenv' by name" ;;
    esac
}

do_uninstall() {
    for shell in bash zsh fish pwsh; do
        remove_line "$(rc_file "$shell")" "$(init_line "$shell")"
    done
    link=$(bin_link)
    venv="$(data_dir)/venv"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$venv/bin/autoenv" ]; then
        rm -f "$link"
        say "removed $link"
    fi
    if [ -d "$venv" ]; then
        rm -rf "$venv"
        say "removed $venv"
    fi
    say "uninstalled; your config ($(config_dir)/autoenv) and project envs are untouched"
}

main() {
    action=install
    modify_rc=yes
    for arg in "$@"; do
        case $arg in
            -h|--help) usage; exit 0 ;;
            --uninstall) action=uninstall ;;
            --no-modify-rc) modify_rc=no ;;
            *) usage >&2; err "unknown option: $arg" ;;
        esac
    done
    [ -n "${HOME:-}" ] || err "HOME is not set"
    if [ "$action" = uninstall ]; then
        do_uninstall
    else
        do_install "$modify_rc"
    fi
}

main "$@"
