# autoenv for zsh: eval "$(autoenv init zsh)"
# shellcheck shell=bash disable=SC2034,SC2296,SC2016,SC2004

typeset -g __autoenv_python=@PYTHON@
typeset -g __autoenv_helper=@HELPER@
typeset -ga __autoenv_names
__autoenv_names=(@NAMES@)
typeset -ga __autoenv_forwarded
__autoenv_forwarded=(@FORWARDED@)
# From this many paths to check, the server's word is sought (__autoenv_compile).
typeset -g __autoenv_sync_from=@SYNC_FROM@

# State between helper runs.  The helper proves what an answer depends on; the
# shell re-checks that with builtin tests only, so an unchanged prompt or a cd
# that changes nothing starts no process.
typeset -g __autoenv_ready=0 __autoenv_pwd='' __autoenv_venv='' __autoenv_key='' __autoenv_stamp=''
typeset -g __autoenv_failed=0 __autoenv_warned=${__autoenv_warned-}
# What autoenv put into PS1 survives a second init (say, ~/.zshrc sourced
# again), so the prefix is not added twice.
typeset -g __autoenv_ps1_added=${__autoenv_ps1_added-} __autoenv_prompt_text=${__autoenv_prompt_text-}
typeset -g __autoenv_prompt_raw=${__autoenv_prompt_raw-} __autoenv_prompt_sig=${__autoenv_prompt_sig-}
# The server (autoenv/serve.py) this shell asks in place of starting a helper;
# kept when this file is sourced again, since it goes on serving.
typeset -g __autoenv_serve_dir=${__autoenv_serve_dir-} __autoenv_serve_pid=${__autoenv_serve_pid-}
typeset -g __autoenv_serve_tokens=${__autoenv_serve_tokens-}
typeset -g __autoenv_serve_request=${__autoenv_serve_request-} __autoenv_serve_reply=${__autoenv_serve_reply-}
typeset -g __autoenv_serve_serial=${__autoenv_serve_serial-0} __autoenv_serve_starts=${__autoenv_serve_starts-0}
# __autoenv_serve_syncs: 0 once the server said it cannot tell whether paths
# changed (no inotify).
typeset -g __autoenv_serve_syncs=${__autoenv_serve_syncs-1} __autoenv_serve_got=
# __autoenv_below: the directories from $PWD up to the one the answer hangs on
# (__autoenv_key); __autoenv_above: that one and those above it, and the
# paths outside that chain the answer depends on (those also in __autoenv_extra).
# __autoenv_changed tests them all (see __autoenv_compile).
# __autoenv_clean: directories a walk found without any watched name since the
# stamp was written; __autoenv_walked: the directories walks started from (each
# walk's directories are in __autoenv_walked_below_N).
# __autoenv_tokens: $PWD -> serial of the server's clean reply for it, whose
# token file stays while that reply holds (see __autoenv_serve_vouches).
# __autoenv_base_for, __autoenv_base_serial and __autoenv_base_news: a new
# directory's chain that a token vouches for but for the directories the walk
# into it found new (see __autoenv_changed_ask); __autoenv_watch_pending: the
# directory whose chain a prompt hands the server to watch, and
# __autoenv_watch_deferred: the one whose first prompt let it wait (see
# __autoenv_hand_over).
typeset -g __autoenv_base_for='' __autoenv_base_serial='' __autoenv_watch_pending='' __autoenv_watch_deferred=''
# __autoenv_chain_test: see __autoenv_compile; __autoenv_check_for: what
# __autoenv_precmd was last defined for; __autoenv_settled: what a deep one
# looks up, $PWD's token (left by __autoenv_hook).
typeset -g __autoenv_chain_test='' __autoenv_check_for=''
typeset -ga __autoenv_below __autoenv_above __autoenv_extra __autoenv_base_news
typeset -gA __autoenv_clean __autoenv_walked __autoenv_tokens __autoenv_settled

# Forgets what the last answer proved, before the helper gives the next one.
__autoenv_forget() {
  __autoenv_key=
  __autoenv_below=()
  __autoenv_above=()
  __autoenv_extra=()
  __autoenv_tokens=()
  __autoenv_base_for=
  __autoenv_base_news=()
  __autoenv_watch_pending=
  __autoenv_watch_deferred=
  __autoenv_clean=()
  __autoenv_walked=()
  __autoenv_settled=()
  __autoenv_compile
}

# __autoenv_has_watched DIR: whether DIR holds any watched name.  One [[ ]]
# built once from the names (quoted with (q)): a loop over the names costs
# zsh more than the stat calls it makes, on every directory a cd walks.
__autoenv_define_has_watched() {
  emulate -L zsh
  local name code=
  for name in "${__autoenv_names[@]}"; do
    code+=" || -e \$1/${(q)name} || -L \$1/${(q)name}"
  done
  eval "__autoenv_has_watched() { [[ ${code# || } ]]; }"
}
__autoenv_define_has_watched

# The pattern the names of the variables sent to the server match, e.g.
# (AUTOENV_|PATH)*; only plain names go in, so it holds no other pattern.
__autoenv_define_forwarded_pattern() {
  emulate -L zsh
  local prefix
  local -a prefixes
  for prefix in "${__autoenv_forwarded[@]}"; do
    [[ $prefix == [A-Za-z_]* && $prefix != *[^A-Za-z0-9_]* ]] && prefixes+=("$prefix")
  done
  typeset -g __autoenv_forwarded_pattern="(${(j:|:)prefixes})*"
}
__autoenv_define_forwarded_pattern

# Called from the helper's output: server PID listens on DIR.  Both FIFOs
# are opened for reading and writing, so no open or write waits on the
# server.  Its tokens are looked for through /proc/PID/cwd (the channel), in
# a directory named after the channel's random part (serve.tokens_dir): a
# PID gone to another process leads elsewhere.
__autoenv_serve_open() {
  __autoenv_serve_close
  __autoenv_serve_dir=$1
  __autoenv_serve_pid=$2
  __autoenv_serve_tokens=/proc/$2/cwd/tokens-${1##*-}
  __autoenv_serve_syncs=1
  { exec {__autoenv_serve_request}<>"$1/request" {__autoenv_serve_reply}<>"$1/reply"; } 2>/dev/null ||
    __autoenv_serve_close
}

# Whether descriptor FD is still the channel's FIFO NAME (or, the channel
# gone, still a FIFO): a number the user closed may belong to anything now.
__autoenv_serve_owns() {
  [[ -n $1 ]] || return 1
  [[ /dev/fd/$1 -ef $__autoenv_serve_dir/$2 ]] || [[ ! -e $__autoenv_serve_dir/$2 && -p /dev/fd/$1 ]]
}

__autoenv_serve_close() {
  if __autoenv_serve_owns "$__autoenv_serve_request" request; then
    { exec {__autoenv_serve_request}>&-; } 2>/dev/null
  fi
  if __autoenv_serve_owns "$__autoenv_serve_reply" reply; then
    { exec {__autoenv_serve_reply}>&-; } 2>/dev/null
  fi
  __autoenv_serve_request=
  __autoenv_serve_reply=
  __autoenv_serve_dir=
  __autoenv_serve_pid=
  __autoenv_serve_tokens=
  __autoenv_tokens=()
}

# Whether there is a server to ask on this shell's descriptors.  Both must
# still be the channel's FIFOs: one the user closed may since be a number the
# shell reuses for anything.  Whether the server is alive is checked only when
# a reply is late (__autoenv_serve_read), which costs a prompt nothing.
__autoenv_serve_usable() {
  [[ -n $__autoenv_serve_dir && ${AUTOENV_SERVE-} != 0 ]] || return 1
  if [[ ! /dev/fd/$__autoenv_serve_request -ef $__autoenv_serve_dir/request ||
        ! /dev/fd/$__autoenv_serve_reply -ef $__autoenv_serve_dir/reply ]]; then
    __autoenv_serve_close
    return 1
  fi
}

# Sends a request: the next serial, then ARGS, NUL-ended.
__autoenv_serve_send() {
  __autoenv_serve_serial=$((__autoenv_serve_serial + 1))
  builtin printf '%s\0' "$__autoenv_serve_serial" "$@" . >&"$__autoenv_serve_request" && return 0
  __autoenv_serve_close
  return 1
}

# Reads the reply to the last request into __autoenv_serve_got (its status
# word), skipping replies to earlier ones.  Gives up (1) when the server is
# gone, or silent for 2 s (stuck); the next helper run starts another.
__autoenv_serve_read() {
  local reply late=0
  while (( late < 20 )); do
    if IFS= read -r -t 0.1 -u "$__autoenv_serve_reply" reply; then
      [[ $reply == "$__autoenv_serve_serial "* ]] || continue
      __autoenv_serve_got=${reply#* }
      return 0
    fi
    kill -0 "$__autoenv_serve_pid" 2>/dev/null || break
    late=$((late + 1))
  done
  __autoenv_serve_close
  return 1
}

# Asks the server whether any path checked for $PWD (its chain and
# __autoenv_extra) changed since the stamp: 0 none did, 1 one did, 2 it
# cannot tell or there is no server (then the shell tests for itself).  The
# server watches them with inotify; see autoenv/watch.py.
__autoenv_serve_sync() {
  __autoenv_serve_send_chain :sync && __autoenv_serve_read || return 2
  case $__autoenv_serve_got in
    (c) __autoenv_tokens[$PWD]=$__autoenv_serve_serial; return 0 ;;
    (d) return 1 ;;
  esac
  __autoenv_serve_syncs=0
  return 2
}

# Whether the token $serial still stands: the server vouches, unasked, that
# nothing checked for a directory changed since its clean reply for it.  The
# server is asleep, so it has handled every event queued so far (the kernel
# queues one within the call that makes the change), and then its token is
# there (the server renames their directory away while it works, asleep or
# not).  Asleep first, then the token: the other way round, an event could
# come between.  The token, looked for through /proc/PID/cwd, also proves
# the process is the server (see __autoenv_serve_open).  Linux only (/proc;
# the name is serve.PROCESS_NAME); elsewhere the server is asked.  Its state
# is read only once /proc has the process, so with no redirection of stderr,
# which costs zsh a few system calls more.  Kept as text:
# __autoenv_serve_vouches runs it, and a deep prompt's __autoenv_precmd writes
# it out (a call costs about as much as the test).
__autoenv_vouch_test='[[ -n $serial && ${AUTOENV_SERVE-} != 0 && -e /proc/$__autoenv_serve_pid/stat ]] &&
    state=$(<"/proc/$__autoenv_serve_pid/stat") &&
    [[ $state == "$__autoenv_serve_pid (autoenv-serve) S "* && -e $__autoenv_serve_tokens/$serial ]]'

# Whether token SERIAL still stands (see __autoenv_vouch_test).
eval "__autoenv_serve_vouches() {
  local serial=\$1 state
  $__autoenv_vouch_test
}"

# A chain to hand the server, now that this prompt has done its check (a cd,
# which does its own, comes to the prompt by the other branch and leaves it
# to the next prompt).  Not at the first prompt in that directory: a walk
# through directories (cd a, cd b, ...) goes on the token it came from and
# tests the few directories it found new, at no cost to the server; a second
# prompt there hands it over.  One for a directory left since (two cds on
# one line) is dropped: the prompt's common case waits for none.
__autoenv_hand_over() {
  local pending=$__autoenv_watch_pending
  __autoenv_watch_pending=
  # (Unless the check asked the server after all, and got a token.)
  [[ $pending == "$PWD" && -z ${__autoenv_tokens[$PWD]-} ]] || return 0
  if [[ $__autoenv_watch_deferred != "$PWD" ]]; then
    __autoenv_watch_deferred=$PWD
    __autoenv_watch_pending=$PWD
  else
    __autoenv_watch_deferred=
    __autoenv_serve_watch
  fi
}

# Hands the server $PWD's chain to watch and leave a token for, waiting for
# no reply (`:watch`).  Only a server just seen asleep is sent one: a stopped
# one would never empty its FIFO.
__autoenv_serve_watch() {
  __autoenv_serve_send_chain :watch && __autoenv_tokens[$PWD]=$__autoenv_serve_serial
}

# Sends the server $PWD's chain and __autoenv_extra with the stamp, as KIND
# (:sync or :watch), when it can watch one and there is a stamp to compare with.
__autoenv_serve_send_chain() {
  [[ $__autoenv_serve_syncs == 1 && -n $__autoenv_stamp ]] && __autoenv_serve_usable &&
    __autoenv_serve_send "$PWD" "$1" "$__autoenv_stamp" "${__autoenv_extra[@]}"
}

# Called from the server's answer: it left token SERIAL for $PWD's chain.
__autoenv_serve_token() {
  __autoenv_tokens[$PWD]=$1
}

# Asks the server for the answer for $PWD and applies it: 0, or 1 when a helper
# must run instead (no server, or it handed the request back).
__autoenv_serve_ask() {
  __autoenv_serve_usable || return 1
  local name
  local -a pairs
  for name in ${(k)parameters[(R)*-export*]}; do
    # shellcheck disable=SC2053 # a pattern, on purpose
    [[ $name == ${~__autoenv_forwarded_pattern} ]] && pairs+=("$name=${(P)name}")
  done
  __autoenv_serve_send "$PWD" "${pairs[@]}" && __autoenv_serve_read || return 1
  [[ $__autoenv_serve_got == ok ]] || return 1
  # shellcheck disable=SC1091 # written by the server just now
  source "$__autoenv_serve_dir/answer"
  __autoenv_compile
}

# Sets __autoenv_chain_test from the paths checked for $PWD (__autoenv_below
# and __autoenv_above): true when one is newer than the stamp, or the stamp is
# gone (zsh's -nt is false then).  For a few paths (a near chain), one
# ! -e $__autoenv_stamp || P1 -nt $__autoenv_stamp || ... with the paths
# written in: a loop costs zsh more.  For a long chain, :deep: the server's
# word, which costs the same however deep: its token when it vouches unasked
# (__autoenv_serve_vouches), else one question.  Called whenever the paths
# change; __autoenv_define_check writes the test into the functions that run it.
__autoenv_compile() {
  emulate -L zsh
  local count=$(( ${#__autoenv_below} + ${#__autoenv_above} )) dir code=
  if (( count >= __autoenv_sync_from )); then
    __autoenv_chain_test=:deep
  elif (( count )); then
    for dir in "${__autoenv_below[@]}" "${__autoenv_above[@]}"; do
      code+=" || ${(q)dir} -nt \$__autoenv_stamp"
    done
    __autoenv_chain_test="! -e \$__autoenv_stamp$code"
  else
    __autoenv_chain_test=
  fi
  __autoenv_define_check
}

# Defines __autoenv_changed (0 when __autoenv_chain_test finds a change) and
# __autoenv_precmd, run at every prompt: its common case in one [[ ]] with no
# `emulate` and no call, nothing in it depending on your options: same
# directory, same env, no chain waiting to be handed over, the prompt options
# as the prefix was built for (when there is one), and no change: the paths'
# test, or deep in a tree the server's token, tested in place
# (__autoenv_vouch_test).  Anything else goes to __autoenv_hook (whose
# status, the failed test's, is no failure: err_exit stays quiet).  Called
# when the paths or the prefix change; for a deep chain, whose functions name
# no path, only when what they were defined for changed.
__autoenv_define_check() {
  emulate -L zsh
  local here='$PWD == "$__autoenv_pwd" && $__autoenv_ready == 1 && -z $__autoenv_watch_pending'
  local rest='${VIRTUAL_ENV-} == "$__autoenv_venv"'
  local test negate same
  if [[ -n $__autoenv_prompt_raw ]]; then
    # Each of __autoenv_hook's letters in __autoenv_prompt_sig, as a test.
    for test in 's-o prompt_subst' 'p-o prompt_percent' 'b-o prompt_bang' 'd-n ${VIRTUAL_ENV_DISABLE_PROMPT-}'; do
      negate='! '
      [[ $__autoenv_prompt_sig == *${test[1]}* ]] && negate=
      rest+=" && $negate${test[2,-1]}"
    done
  fi
  same="$here && $rest"
  [[ $__autoenv_check_for == "$__autoenv_chain_test $same" ]] && return
  __autoenv_check_for="$__autoenv_chain_test $same"
  case $__autoenv_chain_test in
    (:deep)
      __autoenv_changed() {
        __autoenv_serve_vouches "${__autoenv_tokens[$PWD]-}" && return 1
        __autoenv_changed_ask
      }
      # The directory, the answer holding and no chain waiting, in the
      # lookup of its token (__autoenv_settled): a long \$PWD costs zsh
      # more to compare than to look up.
      eval "__autoenv_precmd() {
  local ret=\$? serial=\${__autoenv_settled[=\$PWD]-} state
  [[ $rest ]] && $__autoenv_vouch_test ||
    __autoenv_hook || :
  return \$ret
}" ;;
    ('')
      __autoenv_changed() { return 1; }
      eval "__autoenv_precmd() {
  local ret=\$?
  [[ $same ]] || __autoenv_hook || :
  return \$ret
}" ;;
    (*)
      eval "__autoenv_changed() { [[ $__autoenv_chain_test ]]; }
__autoenv_precmd() {
  local ret=\$?
  [[ $same && ! ( $__autoenv_chain_test ) ]] || __autoenv_hook || :
  return \$ret
}" ;;
  esac
}

# __autoenv_changed for a long chain the server has no token for yet.  A
# directory the shell walked into from one the server vouched for: that
# token, and the shell's own test of the directories the walk found new; a
# prompt hands the server the chain to watch, once, after its own check and
# not before the second prompt there (see __autoenv_hand_over; a server at
# work is not asleep, and vouches for nothing until it is: sent at the cd,
# the prompt right after would wait for it).  Otherwise the
# server's answer (a few hundred microseconds), or when it has none, the
# shell's own tests.
__autoenv_changed_ask() {
  local dir
  if [[ $__autoenv_base_for == "$PWD" && -e $__autoenv_stamp ]] && __autoenv_serve_vouches "$__autoenv_base_serial"; then
    for dir in "${__autoenv_base_news[@]}"; do
      [[ $dir -nt $__autoenv_stamp ]] && return 0
    done
    [[ -n ${__autoenv_tokens[$PWD]-} ]] || __autoenv_watch_pending=$PWD
    return 1
  fi
  __autoenv_serve_sync
  case $? in
    (0) return 1 ;;
    (1) return 0 ;;
  esac
  [[ -e $__autoenv_stamp ]] || return 0
  for dir in "${__autoenv_below[@]}" "${__autoenv_above[@]}"; do
    [[ $dir -nt $__autoenv_stamp ]] && return 0
  done
  return 1
}

__autoenv_forget

# 0 when the last answer still holds for $PWD, 1 when the helper must run.
# Runs on every prompt, only from __autoenv_hook (through __autoenv_update),
# which has done `emulate -L zsh` already: a second one costs more than the
# tests here.
__autoenv_fresh() {
  local dir known found=0 token
  local -a below news
  [[ $__autoenv_ready == 1 && ${VIRTUAL_ENV-} == "$__autoenv_venv" ]] || return 1
  # zsh's -nt is false when the stamp is missing, so check that first.  An
  # empty one: no stamp could be written anywhere, and the helper sent no
  # directories to compare; the answer holds until the next cd.
  [[ -z $__autoenv_stamp || -e $__autoenv_stamp ]] || return 1
  if [[ $PWD == "$__autoenv_pwd" ]]; then
    ! __autoenv_changed
    return
  fi
  [[ -n $__autoenv_stamp ]] || return 1
  # Outside the directory the answer hangs on: the answer changes.
  if [[ -n $__autoenv_key && $PWD != "$__autoenv_key" && $PWD != "${__autoenv_key%/}/"* ]]; then
    return 1
  fi
  # A directory walked from before since the stamp (cd back and forth): the
  # directories that walk found clean need only be unchanged.  (Set before
  # the check: when it fails, the helper's answer replaces them.)
  local seen=${__autoenv_walked[$PWD]-}
  if [[ -n $seen ]]; then
    local walked=__autoenv_walked_below_$seen
    __autoenv_below=("${(@P)walked}")
    __autoenv_compile
    __autoenv_pwd=$PWD
    ! __autoenv_changed
    return
  fi
  # A new directory: nothing between it and the directory the answer hangs on
  # may hold a watched name.  Directories the last answer already covered
  # (the old $PWD's ancestors below that directory), and those a walk since
  # the stamp found clean, need only be unchanged.
  below=()
  news=()
  dir=$PWD
  while [[ $dir != "$__autoenv_key" ]]; do
    if [[ $__autoenv_pwd/ == "${dir%/}/"* ]]; then
      for known in "${__autoenv_below[@]}"; do
        [[ $known == "$dir" ]] && found=1
        (( found )) && below+=("$known")
      done
      (( found )) && break
    fi
    if [[ -z ${__autoenv_clean[$dir]-} ]]; then
      # $PWD by its shortest name: a lookup of each name walks every
      # directory of the path it is given.
      if [[ $dir == "$PWD" ]]; then
        __autoenv_has_watched . && return 1
      else
        __autoenv_has_watched "$dir" && return 1
      fi
      __autoenv_clean[$dir]=1
    fi
    below+=("$dir")
    news+=("$dir")
    if [[ $dir == / || -z $dir ]]; then
      [[ -z $__autoenv_key ]] || return 1
      break
    fi
    dir=${dir%/*}
    dir=${dir:-/}
  done
  __autoenv_below=("${below[@]}")
  # The rest of a long chain is the last directory's: its token (or the one
  # it went on, for a few walks) vouches for it.  A short one is tested whole.
  token=${__autoenv_tokens[$__autoenv_pwd]-}
  if (( ${#below} + ${#__autoenv_above} < __autoenv_sync_from )); then
    __autoenv_base_serial=
  elif [[ -n $token ]]; then
    __autoenv_base_serial=$token
    __autoenv_base_news=("${news[@]}")
  elif [[ $__autoenv_base_for == "$__autoenv_pwd" ]] && (( ${#__autoenv_base_news} < 64 )); then
    # Of the directories found new before, those still on the way to $PWD.
    for known in "${__autoenv_base_news[@]}"; do
      [[ $PWD/ != "${known%/}/"* ]] || news+=("$known")
    done
    __autoenv_base_news=("${news[@]}")
  else
    __autoenv_base_serial=
  fi
  __autoenv_base_for=$PWD
  __autoenv_compile
  __autoenv_pwd=$PWD
  __autoenv_changed && return 1
  # Remembered for the way back (a bounded number of directories).
  (( ${#__autoenv_walked} < 64 )) || __autoenv_walked=()
  seen=$(( ${#__autoenv_walked} + 1 ))
  __autoenv_walked[$PWD]=$seen
  typeset -ga "__autoenv_walked_below_$seen"
  set -A "__autoenv_walked_below_$seen" "${below[@]}"
  return 0
}

# Prints TEXT (a warning the helper cannot keep a record of) unless this
# shell printed it already.
__autoenv_warn_once() {
  [[ $1 == "$__autoenv_warned" ]] && return 0
  __autoenv_warned=$1
  print -ru2 -- "$1"
}

# Shows TEXT (e.g. "(proj) ") in front of PS1, or nothing when TEXT is empty.
# Reads __autoenv_sig, the prompt options __autoenv_hook saw before emulate.
__autoenv_prompt_set() {
  emulate -L zsh
  local text=$1 add sig=${__autoenv_sig-}
  __autoenv_prompt_raw=$1
  __autoenv_prompt_sig=$sig
  [[ $sig == *d* ]] && text=
  [[ $sig == *p* ]] && text=${text//\%/%%}
  [[ $sig == *b* ]] && text=${text//\!/!!}
  __autoenv_prompt_text=$text
  # Take back what was added last time.  `activate` puts its prefix in front
  # of it and `deactivate` restores a PS1 that still holds it, so it is
  # forgotten only once it has been taken off the front.
  if [[ -n $__autoenv_ps1_added ]]; then
    if [[ $PS1 == "$__autoenv_ps1_added"* ]]; then
      PS1=${PS1#"$__autoenv_ps1_added"}
      __autoenv_ps1_added=
    elif [[ $PS1 == *"$__autoenv_ps1_added"* ]]; then
      PS1=${PS1/"$__autoenv_ps1_added"/}
    fi
  fi
  [[ -n $text ]] || return 0
  if [[ $sig == *s* ]]; then
    # A reference, not the text: prompt_subst expands PS1 once, so the value
    # (a directory name) is shown as it is and never run.
    add='${__autoenv_prompt_text}'
  else
    # Plain text is safe only while prompt_subst stays off; __autoenv_hook
    # rebuilds the prefix at the next prompt when that option changes.
    add=$text
  fi
  __autoenv_ps1_added=$add
  PS1=$add$PS1
}

__autoenv_update() {
  __autoenv_fresh && return 0
  local out code=0
  # Recorded before the helper starts: if it is interrupted (Ctrl-C on a hung
  # mount or a slow creation), this directory counts as answered with nothing
  # to do, and the helper starts again only after a cd that may matter.
  __autoenv_forget
  __autoenv_ready=1
  __autoenv_pwd=$PWD
  __autoenv_venv=${VIRTUAL_ENV-}
  local -a serve
  if [[ ! -x $__autoenv_python || ! -f $__autoenv_helper ]]; then
    code=127
  elif __autoenv_serve_ask; then
    __autoenv_failed=0
    __autoenv_serve_starts=0
    __autoenv_venv=${VIRTUAL_ENV-}
    return 0
  else
    # No server yet: this run starts one (a few tries in a row at most; one
    # that served and ended, idle, is replaced any number of times).
    if [[ -z $__autoenv_serve_dir ]] && (( __autoenv_serve_starts < 3 )); then
      serve=(serve)
      __autoenv_serve_starts=$((__autoenv_serve_starts + 1))
    fi
    if (( __autoenv_failed )); then
      # Said once already; stay quiet until it works again.
      out=$("$__autoenv_python" -I -S "$__autoenv_helper" zsh "$$" "$PWD" "${serve[@]}" 2>/dev/null) || code=$?
    else
      out=$("$__autoenv_python" -I -S "$__autoenv_helper" zsh "$$" "$PWD" "${serve[@]}") || code=$?
    fi
  fi
  if (( code == 0 )); then
    eval "$out"
    __autoenv_compile
    __autoenv_failed=0
  else
    # 130: interrupted, nothing to say.  70: the helper caught its own error
    # and said so in one line already.
    if (( ! __autoenv_failed && code != 130 )); then
      if (( code == 127 )); then
        print -ru2 -- "autoenv: cannot run $__autoenv_python $__autoenv_helper (gone after an upgrade or uninstall?); this shell stays as it is. Run: autoenv doctor"
      elif (( code != 70 )); then
        print -ru2 -- "autoenv: the helper failed (exit $code); this shell stays as it is. Run: autoenv doctor"
      fi
      __autoenv_failed=1
    fi
  fi
  __autoenv_venv=${VIRTUAL_ENV-}
}

# chpwd switches the env at the cd itself, so `cd proj && pytest` runs the
# project's pytest; precmd covers the first prompt and changes made in place
# (through __autoenv_precmd, when its common case does not hold).
__autoenv_hook() {
  local ret=$? __autoenv_sig=
  # Read before emulate resets them: the prompt prefix depends on them.
  [[ -o prompt_subst ]] && __autoenv_sig+=s
  [[ -o prompt_percent ]] && __autoenv_sig+=p
  [[ -o prompt_bang ]] && __autoenv_sig+=b
  [[ -n ${VIRTUAL_ENV_DISABLE_PROMPT-} ]] && __autoenv_sig+=d
  emulate -L zsh
  # Not in a subshell such as $(cd dir && pwd): its changes vanish with it,
  # and a helper run there would only cost time (the prompt catches up).
  (( ZSH_SUBSHELL )) && return $ret
  # The common case first, with no call but the paths' own test
  # (__autoenv_compile): same directory, same env, nothing changed since the stamp.
  if [[ $PWD == "$__autoenv_pwd" && $__autoenv_ready == 1 && ${VIRTUAL_ENV-} == "$__autoenv_venv" ]]; then
    __autoenv_changed && __autoenv_update
    [[ -z $__autoenv_watch_pending ]] || __autoenv_hand_over
  else
    __autoenv_update
  fi
  if [[ -n $__autoenv_prompt_raw && $__autoenv_sig != "$__autoenv_prompt_sig" ]]; then
    __autoenv_prompt_set "$__autoenv_prompt_raw"
    __autoenv_define_check
  fi
  # What a deep prompt looks up: $PWD's token, while the answer for it holds
  # and no chain waits to be handed over.
  if [[ $__autoenv_chain_test == :deep && $__autoenv_ready == 1 && -z $__autoenv_watch_pending && -n $__autoenv_pwd ]]; then
    # shellcheck disable=SC2190 # zsh fills an associative array from key, value
    __autoenv_settled=("=$__autoenv_pwd" "${__autoenv_tokens[$__autoenv_pwd]-}")
  else
    __autoenv_settled=()
  fi
  return $ret
}

typeset -ga chpwd_functions precmd_functions
if (( ! ${chpwd_functions[(I)__autoenv_hook]} )); then
  chpwd_functions=(__autoenv_hook "${chpwd_functions[@]}")
fi
# (An init from before __autoenv_precmd put __autoenv_hook there.)
precmd_functions=("${(@)precmd_functions[@]:#__autoenv_hook}")
if (( ! ${precmd_functions[(I)__autoenv_precmd]} )); then
  precmd_functions=(__autoenv_precmd "${precmd_functions[@]}")
fi
