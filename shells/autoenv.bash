# autoenv for bash: eval "$(autoenv init bash)"
# shellcheck shell=bash disable=SC2034,SC2016

__autoenv_python=@PYTHON@
__autoenv_helper=@HELPER@
__autoenv_names=(@NAMES@)

# State between helper runs.  The helper proves what an answer depends on; the
# shell re-checks that with builtin tests only, so an unchanged prompt or a cd
# that changes nothing starts no process.
__autoenv_ready=0
__autoenv_pwd=
__autoenv_venv=
__autoenv_key=
__autoenv_stamp=
__autoenv_below=()
__autoenv_above=()
__autoenv_failed=0
__autoenv_ps1_added=
__autoenv_prompt_text=

# 0 when the last answer still holds for $PWD, 1 when the helper must run.
__autoenv_fresh() {
  local dir name
  [[ $__autoenv_ready == 1 && ${VIRTUAL_ENV-} == "$__autoenv_venv" ]] || \builtin return 1
  if [[ $PWD == "$__autoenv_pwd" ]]; then
    for dir in "${__autoenv_below[@]}" "${__autoenv_above[@]}"; do
      [[ $dir -nt $__autoenv_stamp ]] && \builtin return 1
    done
    \builtin return 0
  fi
  # A new directory: nothing between it and the directory the answer hangs on
  # may hold a watched name.
  local -a below=()
  dir=$PWD
  while [[ $dir != "$__autoenv_key" ]]; do
    for name in "${__autoenv_names[@]}"; do
      [[ -e $dir/$name || -L $dir/$name ]] && \builtin return 1
    done
    below+=("$dir")
    if [[ $dir == / || -z $dir ]]; then
      [[ -z $__autoenv_key ]] || \builtin return 1
      \builtin break
    fi
    dir=${dir%/*}
    dir=${dir:-/}
  done
  for dir in "${__autoenv_above[@]}"; do
    [[ $dir -nt $__autoenv_stamp ]] && \builtin return 1
  done
  __autoenv_below=("${below[@]}")
  __autoenv_pwd=$PWD
  \builtin return 0
}

__autoenv_prompt_set() {
  if [[ -n $__autoenv_ps1_added && ${PS1-} == "$__autoenv_ps1_added"* ]]; then
    PS1=${PS1#"$__autoenv_ps1_added"}
  fi
  __autoenv_ps1_added=
  __autoenv_prompt_text=$1
  [[ -n $1 && -z ${VIRTUAL_ENV_DISABLE_PROMPT-} ]] || \builtin return 0
  if \builtin shopt -q promptvars; then
    # A reference, not the text: the value of a parameter is not expanded again.
    __autoenv_ps1_added='${__autoenv_prompt_text}'
  else
    __autoenv_ps1_added=${1//\\/\\\\}
  fi
  PS1=$__autoenv_ps1_added${PS1-}
}

__autoenv_update() {
  __autoenv_fresh && \builtin return 0
  local out
  if out=$("$__autoenv_python" -I -S "$__autoenv_helper" bash "$$" "$PWD"); then
    \builtin eval -- "$out"
    __autoenv_failed=0
  else
    if [[ $__autoenv_failed == 0 ]]; then
      \builtin printf 'autoenv: the helper failed (%s); the shell is unchanged. Run: autoenv doctor\n' \
        "$__autoenv_helper" >&2
    fi
    __autoenv_failed=1
    __autoenv_key=
    __autoenv_below=()
    __autoenv_above=()
  fi
  __autoenv_ready=1
  __autoenv_pwd=$PWD
  __autoenv_venv=${VIRTUAL_ENV-}
}

__autoenv_hook() {
  local ret=$?
  __autoenv_update
  \builtin return "$ret"
}

# cd, pushd and popd switch the env at once, so `cd proj && pytest` runs the
# project's pytest.  A cd function another tool defined first keeps working:
# it is saved under __autoenv_user_<name> and called in place of the builtin.
__autoenv_chdir() {
  local command=$1
  \builtin shift
  if \builtin declare -F "__autoenv_user_$command" >/dev/null; then
    "__autoenv_user_$command" "$@"
  else
    \builtin "$command" "$@"
  fi
  local ret=$?
  __autoenv_update
  \builtin return "$ret"
}

__autoenv_wrap() {
  local command=$1 definition
  definition=$(\builtin declare -f "$command") || definition=
  case $definition in
    *__autoenv_chdir*) \builtin return 0 ;;
    ?*) \builtin eval "__autoenv_user_${command}() ${definition#*$'\n'}" ;;
  esac
  \builtin eval "${command}() { __autoenv_chdir ${command} \"\$@\"; }"
}

if [[ ${AUTOENV_BASH_WRAP_CD-1} != 0 ]]; then
  __autoenv_wrap cd
  __autoenv_wrap pushd
  __autoenv_wrap popd
fi

# Run first at every prompt, keeping $? for whatever follows.
if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  case " ${PROMPT_COMMAND[*]} " in
    *" __autoenv_hook "*) ;;
    *) PROMPT_COMMAND=(__autoenv_hook "${PROMPT_COMMAND[@]}") ;;
  esac
else
  # shellcheck disable=SC2128,SC2178
  case ";${PROMPT_COMMAND-};" in
    *";__autoenv_hook;"*) ;;
    *) PROMPT_COMMAND="__autoenv_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
  esac
fi
