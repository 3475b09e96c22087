# autoenv for zsh: eval "$(autoenv init zsh)"
# shellcheck shell=bash disable=SC2034,SC2296,SC2016,SC2004

typeset -g __autoenv_python=@PYTHON@
typeset -g __autoenv_helper=@HELPER@
typeset -ga __autoenv_names
__autoenv_names=(@NAMES@)

# State between helper runs.  The helper proves what an answer depends on; the
# shell re-checks that with builtin tests only, so an unchanged prompt or a cd
# that changes nothing starts no process.
typeset -g __autoenv_ready=0 __autoenv_pwd='' __autoenv_venv='' __autoenv_key='' __autoenv_stamp=''
typeset -g __autoenv_failed=0 __autoenv_ps1_added='' __autoenv_prompt_text=''
typeset -ga __autoenv_below __autoenv_above
__autoenv_below=()
__autoenv_above=()

# 0 when the last answer still holds for $PWD, 1 when the helper must run.
__autoenv_fresh() {
  emulate -L zsh
  local dir name
  local -a below
  [[ $__autoenv_ready == 1 && ${VIRTUAL_ENV-} == "$__autoenv_venv" ]] || return 1
  # zsh's -nt is false when the stamp is missing, so check that first.
  [[ -e $__autoenv_stamp ]] || return 1
  if [[ $PWD == "$__autoenv_pwd" ]]; then
    for dir in "${__autoenv_below[@]}" "${__autoenv_above[@]}"; do
      [[ $dir -nt $__autoenv_stamp ]] && return 1
    done
    return 0
  fi
  # A new directory: nothing between it and the directory the answer hangs on
  # may hold a watched name.
  below=()
  dir=$PWD
  while [[ $dir != "$__autoenv_key" ]]; do
    for name in "${__autoenv_names[@]}"; do
      [[ -e $dir/$name || -L $dir/$name ]] && return 1
    done
    below+=("$dir")
    if [[ $dir == / || -z $dir ]]; then
      [[ -z $__autoenv_key ]] || return 1
      break
    fi
    dir=${dir%/*}
    dir=${dir:-/}
  done
  for dir in "${__autoenv_above[@]}"; do
    [[ $dir -nt $__autoenv_stamp ]] && return 1
  done
  __autoenv_below=("${below[@]}")
  __autoenv_pwd=$PWD
  return 0
}

__autoenv_prompt_set() {
  emulate -L zsh
  if [[ -n $__autoenv_ps1_added && ${PS1:0:${#__autoenv_ps1_added}} == "$__autoenv_ps1_added" ]]; then
    PS1=${PS1:${#__autoenv_ps1_added}}
  fi
  __autoenv_ps1_added=
  __autoenv_prompt_text=${1//\%/%%}
  [[ -n $1 && -z ${VIRTUAL_ENV_DISABLE_PROMPT-} ]] || return 0
  if (( ${__autoenv_subst:-0} )); then
    # A reference, not the text: the value of a parameter is not expanded again.
    __autoenv_ps1_added='${__autoenv_prompt_text}'
  else
    __autoenv_ps1_added=$__autoenv_prompt_text
  fi
  PS1=$__autoenv_ps1_added$PS1
}

__autoenv_update() {
  __autoenv_fresh && return 0
  local out
  if out=$("$__autoenv_python" -I -S "$__autoenv_helper" zsh "$$" "$PWD"); then
    eval "$out"
    __autoenv_failed=0
  else
    if [[ $__autoenv_failed == 0 ]]; then
      print -ru2 -- "autoenv: the helper failed ($__autoenv_helper); the shell is unchanged. Run: autoenv doctor"
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

# chpwd switches the env at the cd itself, so `cd proj && pytest` runs the
# project's pytest; precmd covers the first prompt and changes made in place.
__autoenv_hook() {
  local ret=$? __autoenv_subst=0
  # Read before emulate resets it: the prompt prefix depends on it.
  [[ -o prompt_subst ]] && __autoenv_subst=1
  emulate -L zsh
  __autoenv_update
  return $ret
}

typeset -ga chpwd_functions precmd_functions
if (( ! ${chpwd_functions[(I)__autoenv_hook]} )); then
  chpwd_functions=(__autoenv_hook "${chpwd_functions[@]}")
fi
if (( ! ${precmd_functions[(I)__autoenv_hook]} )); then
  precmd_functions=(__autoenv_hook "${precmd_functions[@]}")
fi
