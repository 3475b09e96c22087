# autoenv for bash: eval "$(autoenv init bash)"
# shellcheck shell=bash disable=SC2034,SC2016

__autoenv_python=@PYTHON@
__autoenv_helper=@HELPER@
__autoenv_names=(@NAMES@)
__autoenv_forwarded=(@FORWARDED@)
# From this many paths to check, the server's word is sought (__autoenv_compile).
__autoenv_sync_from=@SYNC_FROM@

# State between helper runs.  The helper proves what an answer depends on; the
# shell re-checks that with builtin tests only, so an unchanged prompt or a cd
# that changes nothing starts no process.
# __autoenv_below: the directories from $PWD up to the one the answer hangs on
# (__autoenv_key); __autoenv_above: that one and those above it, and the paths
# outside that chain the answer depends on (those also in __autoenv_extra).
# __autoenv_changed tests them all (see __autoenv_compile).
# __autoenv_tokens: $PWD -> serial of the server's clean reply for it, whose
# token file stays while that reply holds (see __autoenv_serve_vouches).
# __autoenv_base_for, __autoenv_base_serial and __autoenv_base_news: a new
# directory's chain that a token vouches for but for the directories the walk
# into it found new (see __autoenv_changed_ask); __autoenv_watch_pending: the
# directory whose chain a prompt hands the server to watch, and
# __autoenv_watch_deferred: the one whose first prompt let it wait (see
# __autoenv_hand_over).
# __autoenv_clean: directories a walk found without any watched name since the
# stamp was written; __autoenv_walked: the directories walks started from (each
# walk's directories are in __autoenv_walked_below_N).
# __autoenv_settled and __autoenv_settled_venv: what the prompt's common case
# looks up (see __autoenv_same and __autoenv_settle).
\builtin declare -gA __autoenv_clean __autoenv_walked __autoenv_tokens \
  __autoenv_settled __autoenv_settled_venv

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
  __autoenv_settled_on=
  __autoenv_compile
}

__autoenv_ready=0
__autoenv_pwd=
__autoenv_venv=
__autoenv_stamp=
__autoenv_failed=0
__autoenv_warned=${__autoenv_warned-}
# What autoenv put into PS1 survives a second init (say, ~/.bashrc sourced
# again), so the prefix is not added twice.
__autoenv_ps1_added=${__autoenv_ps1_added-}
__autoenv_prompt_text=${__autoenv_prompt_text-}
__autoenv_prompt_raw=${__autoenv_prompt_raw-}
__autoenv_prompt_sig=${__autoenv_prompt_sig-}
# The server (autoenv/serve.py) this shell asks in place of starting a helper;
# kept when this file is sourced again, since it goes on serving.
__autoenv_serve_dir=${__autoenv_serve_dir-}
__autoenv_serve_pid=${__autoenv_serve_pid-}
__autoenv_serve_tokens=${__autoenv_serve_tokens-}
__autoenv_serve_request=${__autoenv_serve_request-}
__autoenv_serve_reply=${__autoenv_serve_reply-}
__autoenv_serve_serial=${__autoenv_serve_serial-0}
__autoenv_serve_got=
# 0 once the server said it cannot tell whether paths changed (no inotify).
__autoenv_serve_syncs=${__autoenv_serve_syncs-1}
__autoenv_serve_starts=${__autoenv_serve_starts-0}
__autoenv_forwarded_now=()

# __autoenv_has_watched DIR: whether DIR holds any watched name.  One [[ ]]
# built once from the names (through printf %q): a loop over the names costs
# bash more than the stat calls it makes, on every directory a cd walks.
__autoenv_define_has_watched() {
  local name quoted code=
  for name in "${__autoenv_names[@]}"; do
    \builtin printf -v quoted '%q' "$name"
    code+=" || -e \$1/$quoted || -L \$1/$quoted"
  done
  \builtin eval "__autoenv_has_watched() { [[ ${code# || } ]]; }"
}
__autoenv_define_has_watched

# __autoenv_list_forwarded: the names of the variables the server is sent
# (those with a prefix in __autoenv_forwarded) into __autoenv_forwarded_now.
__autoenv_define_list_forwarded() {
  local prefix code=
  for prefix in "${__autoenv_forwarded[@]}"; do
    [[ $prefix =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && code+=" \${!${prefix}@}"
  done
  \builtin eval "__autoenv_list_forwarded() { __autoenv_forwarded_now=(${code}); }"
}
__autoenv_define_list_forwarded

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
  { \builtin exec {__autoenv_serve_request}<>"$1/request" {__autoenv_serve_reply}<>"$1/reply"; } 2>/dev/null ||
    __autoenv_serve_close
}

# Whether descriptor FD is still the channel's FIFO NAME (or, the channel
# gone, still a FIFO): a number the user closed may belong to anything now.
__autoenv_serve_owns() {
  [[ -n $1 ]] || \builtin return 1
  [[ /dev/fd/$1 -ef $__autoenv_serve_dir/$2 ]] || [[ ! -e $__autoenv_serve_dir/$2 && -p /dev/fd/$1 ]]
}

__autoenv_serve_close() {
  if __autoenv_serve_owns "$__autoenv_serve_request" request; then
    { \builtin exec {__autoenv_serve_request}>&-; } 2>/dev/null
  fi
  if __autoenv_serve_owns "$__autoenv_serve_reply" reply; then
    { \builtin exec {__autoenv_serve_reply}>&-; } 2>/dev/null
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
  [[ -n $__autoenv_serve_dir && ${AUTOENV_SERVE-} != 0 ]] || \builtin return 1
  if [[ ! /dev/fd/$__autoenv_serve_request -ef $__autoenv_serve_dir/request ||
        ! /dev/fd/$__autoenv_serve_reply -ef $__autoenv_serve_dir/reply ]]; then
    __autoenv_serve_close
    \builtin return 1
  fi
}

# Sends a request: the next serial, then ARGS, NUL-ended.
__autoenv_serve_send() {
  __autoenv_serve_serial=$((__autoenv_serve_serial + 1))
  \builtin printf '%s\0' "$__autoenv_serve_serial" "$@" . >&"$__autoenv_serve_request" && \builtin return 0
  __autoenv_serve_close
  \builtin return 1
}

# Reads the reply to the last request into __autoenv_serve_got (its status
# word), skipping replies to earlier ones.  Gives up (1) when the server is
# gone, or silent for 2 s (stuck); the next helper run starts another.
__autoenv_serve_read() {
  local reply late=0
  while (( late < 20 )); do
    if IFS= \builtin read -r -t 0.1 -u "$__autoenv_serve_reply" reply; then
      [[ $reply == "$__autoenv_serve_serial "* ]] || \builtin continue
      __autoenv_serve_got=${reply#* }
      \builtin return 0
    fi
    \builtin kill -0 "$__autoenv_serve_pid" 2>/dev/null || \builtin break
    late=$((late + 1))
  done
  __autoenv_serve_close
  \builtin return 1
}

# Asks the server whether any path checked for $PWD (its chain and
# __autoenv_extra) changed since the stamp: 0 none did, 1 one did, 2 it
# cannot tell or there is no server (then the shell tests for itself).  The
# server watches them with inotify; see autoenv/watch.py.
__autoenv_serve_sync() {
  __autoenv_serve_send_chain :sync && __autoenv_serve_read || \builtin return 2
  case $__autoenv_serve_got in
    c) __autoenv_tokens[$PWD]=$__autoenv_serve_serial; \builtin return 0 ;;
    d) \builtin return 1 ;;
  esac
  __autoenv_serve_syncs=0
  \builtin return 2
}

# Whether the token $__autoenv_serial still stands: the server vouches, unasked, that
# nothing checked for a directory changed since its clean reply for it.  The
# server is asleep, so it has handled every event queued so far (the kernel
# queues one within the call that makes the change), and then its token is
# there (the server renames their directory away while it works, asleep or
# not).  Asleep first, then the token: the other way round, an event could
# come between.  The token, looked for through /proc/PID/cwd, also proves
# the process is the server (see __autoenv_serve_open).  Linux only (/proc;
# the name is serve.PROCESS_NAME); elsewhere the server is asked.  Its state
# is read only once /proc has the process, so with no redirection of stderr,
# which costs bash a dozen system calls more: $(<file) reads without a
# process.  Kept as text: __autoenv_serve_vouches runs it, and a deep
# prompt's hook writes it out (a call costs about as much as the test).
__autoenv_vouch_test='[[ -n $__autoenv_serial && ${AUTOENV_SERVE-} != 0 && -e /proc/$__autoenv_serve_pid/stat ]] &&
    __autoenv_state=$(< "/proc/$__autoenv_serve_pid/stat") &&
    [[ $__autoenv_state == "$__autoenv_serve_pid (autoenv-serve) S "* && -e $__autoenv_serve_tokens/$__autoenv_serial ]]'

# Whether token SERIAL still stands (see __autoenv_vouch_test).
\builtin eval "__autoenv_serve_vouches() {
  local __autoenv_serial=\$1 __autoenv_state
  $__autoenv_vouch_test
}"

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
  __autoenv_serve_usable || \builtin return 1
  local name
  local -a pairs=()
  __autoenv_list_forwarded
  for name in "${__autoenv_forwarded_now[@]}"; do
    [[ ${!name@a} != *x* ]] || pairs+=("$name=${!name}")
  done
  __autoenv_serve_send "$PWD" "${pairs[@]}" && __autoenv_serve_read || \builtin return 1
  [[ $__autoenv_serve_got == ok ]] || \builtin return 1
  # shellcheck disable=SC1091 # written by the server just now
  \builtin source "$__autoenv_serve_dir/answer"
  __autoenv_compile
}

# Defines __autoenv_changed: 0 when a path checked for $PWD (__autoenv_below
# and __autoenv_above) is newer than the stamp.  For a few paths, one
# [[ $__autoenv_chain_1 -nt $__autoenv_stamp || ... ]]: one `test` given
# them as arguments costs bash more.  For a long chain, the server's
# word, which costs the same however deep: its token when it vouches unasked
# (__autoenv_serve_vouches), else one question.  Called whenever the paths
# change.
#
# Defines with it __autoenv_hook, run at every prompt: its common case in
# one [[ ]] (__autoenv_same) with the same test written in, and no call
# (a call costs a cold prompt about as much as the rest); anything else goes
# to __autoenv_prompt_work.  Deep in a tree that test is the server's token
# (__autoenv_vouch_test).  Both are defined again only when the kind of
# chain changes (for a short one, its length).  Their variables are global,
# as is the status they keep: a `local` costs a prompt more than the test
# of a path.
# (Kept small, and each kind in a function of its own: bash copies a
# function's body at each call, and this one runs at each cd.)
__autoenv_compile() {
  if (( ${#__autoenv_below[@]} + ${#__autoenv_above[@]} >= __autoenv_sync_from )); then
    [[ $__autoenv_hook_kind == deep ]] || __autoenv_compile_deep
  elif (( ${#__autoenv_below[@]} + ${#__autoenv_above[@]} )); then
    __autoenv_compile_near
  else
    [[ $__autoenv_hook_kind == none ]] || __autoenv_compile_none
  fi
}

# shellcheck disable=SC2015 # A && B || C: the work is for when A or B fails
__autoenv_compile_deep() {
  __autoenv_hook_kind=deep
  __autoenv_changed() {
    __autoenv_serve_vouches "${__autoenv_tokens[$PWD]-}" && \builtin return 1
    __autoenv_changed_ask
  }
  \builtin eval "__autoenv_hook() {
  __autoenv_status=\$? __autoenv_serial=\${__autoenv_settled[\$BASHOPTS=\$PWD]-}
  [[ $__autoenv_same_rest ]] && $__autoenv_vouch_test ||
    __autoenv_prompt_work
  \\builtin return \"\$__autoenv_status\"
}"
}

# The paths go in __autoenv_chain_1, _2, ...: bash expands a variable for
# less than a word written out, and the functions stay the same for as many
# paths (no eval at a cd that keeps the count).
__autoenv_compile_near() {
  local path code='' count=0
  for path in "${__autoenv_below[@]}" "${__autoenv_above[@]}"; do
    count=$((count + 1))
    \builtin printf -v "__autoenv_chain_$count" %s "$path"
  done
  [[ $__autoenv_hook_kind != "near$count" ]] || \builtin return 0
  __autoenv_hook_kind=near$count
  for ((path = 1; path <= count; path++)); do
    code+=" || \$__autoenv_chain_$path -nt \$__autoenv_stamp"
  done
  \builtin eval "__autoenv_changed() { [[ ${code# || } ]]; }
__autoenv_hook() {
  __autoenv_status=\$?
  [[ $__autoenv_same && ! ( ${code# || } ) ]] || __autoenv_prompt_work
  \\builtin return \"\$__autoenv_status\"
}"
}

__autoenv_compile_none() {
  __autoenv_hook_kind=none
  __autoenv_changed() { \builtin return 1; }
  \builtin eval "__autoenv_hook() {
  __autoenv_status=\$?
  [[ $__autoenv_same ]] || __autoenv_prompt_work
  \\builtin return \"\$__autoenv_status\"
}"
}

# The prompt's common case as [[ ]] text (see __autoenv_compile): same
# directory, same env, no chain waiting to be handed over, and the prompt
# prefix built for the shell options as they are.  The directory and the
# options, "$BASHOPTS=$PWD" (no option name holds "="), and the env are
# looked up in associative arrays that hold the one value that passes
# (__autoenv_settle): for [[ $a == "$b" ]] bash matches a pattern made of
# every character of b, about a hundred instructions a character ($BASHOPTS
# is 200 long, a path 40 deep 400); a lookup costs a fifth of that.  (No key
# is empty, which is an error.)  __autoenv_same_rest is all but the
# directory, for the deep hook, which looks that up for its token.
__autoenv_same_rest='-n ${__autoenv_settled_venv[=${VIRTUAL_ENV-}]-} && ${VIRTUAL_ENV_DISABLE_PROMPT:+off} == "$__autoenv_settled_vedp"'
__autoenv_same="-n \${__autoenv_settled[\$BASHOPTS=\$PWD]-} && $__autoenv_same_rest"

# Fills what __autoenv_same looks up from the state a cd or a prompt's work
# left: the directory answered with the options the prefix was built for,
# to its token's serial for a deep chain (empty with none), else "-"
# (nothing while no answer holds or a chain waits to be handed over: the
# next prompt does its work), and beside it the env and
# VIRTUAL_ENV_DISABLE_PROMPT as the prefix was built, when they changed.
# The directory's entry is taken out by its key: emptying an associative
# array makes bash allocate and clear a table of 1024 entries.  Its callers
# skip the call when it would change nothing (no entry to take out, a chain
# waiting), as after each cd of a walk: a call costs a cd about as much as a
# dozen tests.
__autoenv_settle() {
  [[ -z $__autoenv_settled_on ]] || \builtin unset -v '__autoenv_settled[$__autoenv_settled_key]'
  if [[ $__autoenv_ready == 1 && -z $__autoenv_watch_pending ]]; then
    [[ -n ${__autoenv_settled_venv[=$__autoenv_venv]-} && $__autoenv_settled_vedp == "${__autoenv_prompt_sig##*/}" ]] ||
      __autoenv_settle_env
    __autoenv_settled_key="${__autoenv_prompt_sig%/*}=$__autoenv_pwd"
    # (Tokens are for deep chains, whose $__autoenv_pwd is never empty: the
    # lookup of an empty key is an error.)
    if [[ $__autoenv_hook_kind == deep ]]; then
      __autoenv_settled[$__autoenv_settled_key]=${__autoenv_tokens[$__autoenv_pwd]-}
    else
      __autoenv_settled[$__autoenv_settled_key]=-
    fi
    __autoenv_settled_on=1
  else
    __autoenv_settled_on=
  fi
}

__autoenv_settle_env() {
  __autoenv_settled_venv=()
  __autoenv_settled_venv[=$__autoenv_venv]=1
  __autoenv_settled_vedp=${__autoenv_prompt_sig##*/}
}
__autoenv_settled_vedp=

# The kind of chain __autoenv_hook was last defined for: nearN (N paths),
# deep or none.
__autoenv_hook_kind=

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
  local path
  if [[ $__autoenv_base_for == "$PWD" ]] && __autoenv_serve_vouches "$__autoenv_base_serial"; then
    for path in "${__autoenv_base_news[@]}"; do
      [[ $path -nt $__autoenv_stamp ]] && \builtin return 0
    done
    [[ -n ${__autoenv_tokens[$PWD]-} ]] || __autoenv_watch_pending=$PWD
    \builtin return 1
  fi
  __autoenv_serve_sync
  case $? in
    0) \builtin return 1 ;;
    1) \builtin return 0 ;;
  esac
  for path in "${__autoenv_below[@]}" "${__autoenv_above[@]}"; do
    [[ $path -nt $__autoenv_stamp ]] && \builtin return 0
  done
  \builtin return 1
}

__autoenv_forget

# 0 when the last answer still holds for $PWD, 1 when the helper must run.
__autoenv_fresh() {
  [[ $__autoenv_ready == 1 && ${VIRTUAL_ENV-} == "$__autoenv_venv" ]] || \builtin return 1
  if [[ $PWD == "$__autoenv_pwd" ]]; then
    ! __autoenv_changed
    \builtin return
  fi
  # No stamp could be written anywhere: the answer holds until the next cd.
  [[ -n $__autoenv_stamp ]] || \builtin return 1
  # Outside the directory the answer hangs on: the answer changes.
  if [[ -n $__autoenv_key && $PWD != "$__autoenv_key" && $PWD != "${__autoenv_key%/}/"* ]]; then
    \builtin return 1
  fi
  # A directory walked from before since the stamp (cd back and forth): the
  # directories that walk found clean need only be unchanged.  (Set before
  # the check: when it fails, the helper's answer replaces them.)
  local seen=${__autoenv_walked[$PWD]-}
  if [[ -n $seen ]]; then
    local walked_below="__autoenv_walked_below_${seen}[@]"
    __autoenv_below=("${!walked_below}")
    __autoenv_compile
    __autoenv_pwd=$PWD
    ! __autoenv_changed
    \builtin return
  fi
  __autoenv_walk_into
}

# __autoenv_fresh for a directory not walked into since the stamp: nothing
# between it and the directory the answer hangs on may hold a watched name.
# Directories the last answer already covered (the old $PWD's ancestors below
# that directory), and those a walk since the stamp found clean, need only be
# unchanged.
__autoenv_walk_into() {
  local dir=$PWD known found=0 seen
  local -a below=() news=()
  while [[ $dir != "$__autoenv_key" ]]; do
    if [[ $__autoenv_pwd/ == "${dir%/}/"* ]]; then
      for known in "${__autoenv_below[@]}"; do
        [[ $known == "$dir" ]] && found=1
        [[ $found == 1 ]] && below+=("$known")
      done
      [[ $found == 1 ]] && \builtin break
    fi
    if [[ -z ${__autoenv_clean[$dir]-} ]]; then
      # $PWD by its shortest name: a lookup of each name walks every
      # directory of the path it is given.
      if [[ $dir == "$PWD" ]]; then
        __autoenv_has_watched . && \builtin return 1
      else
        __autoenv_has_watched "$dir" && \builtin return 1
      fi
      __autoenv_clean[$dir]=1
    fi
    below+=("$dir")
    news+=("$dir")
    if [[ $dir == / || -z $dir ]]; then
      [[ -z $__autoenv_key ]] || \builtin return 1
      \builtin break
    fi
    dir=${dir%/*}
    dir=${dir:-/}
  done
  __autoenv_below=("${below[@]}")
  # The rest of a long chain is the last directory's: its token (or the one
  # it went on, for a few walks) vouches for it.  A short one is tested whole.
  local token=${__autoenv_tokens[$__autoenv_pwd]-}
  if (( ${#below[@]} + ${#__autoenv_above[@]} < __autoenv_sync_from )); then
    __autoenv_base_serial=
  elif [[ -n $token ]]; then
    __autoenv_base_serial=$token
    __autoenv_base_news=("${news[@]}")
  elif [[ $__autoenv_base_for == "$__autoenv_pwd" && ${#__autoenv_base_news[@]} -lt 64 ]]; then
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
  __autoenv_changed && \builtin return 1
  # Remembered for the way back (a bounded number of directories).
  (( ${#__autoenv_walked[@]} < 64 )) || __autoenv_walked=()
  seen=$(( ${#__autoenv_walked[@]} + 1 ))
  __autoenv_walked[$PWD]=$seen
  \builtin eval "__autoenv_walked_below_$seen=(\"\${below[@]}\")"
  \builtin return 0
}

# Prints TEXT (a warning the helper cannot keep a record of) unless this
# shell printed it already.
__autoenv_warn_once() {
  [[ $1 == "$__autoenv_warned" ]] && \builtin return 0
  __autoenv_warned=$1
  \builtin printf '%s\n' "$1" >&2
}

# Shows TEXT (e.g. "(proj) ") in front of PS1, or nothing when TEXT is empty.
__autoenv_prompt_set() {
  local text=$1 add
  __autoenv_prompt_raw=$1
  __autoenv_prompt_sig=$BASHOPTS/${VIRTUAL_ENV_DISABLE_PROMPT:+off}
  [[ -z ${VIRTUAL_ENV_DISABLE_PROMPT-} ]] || text=
  __autoenv_prompt_text=$text
  # Take back what was added last time.  `activate` puts its prefix in front
  # of it and `deactivate` restores a PS1 that still holds it, so it is
  # forgotten only once it has been taken off the front.
  if [[ -n $__autoenv_ps1_added ]]; then
    if [[ ${PS1-} == "$__autoenv_ps1_added"* ]]; then
      PS1=${PS1#"$__autoenv_ps1_added"}
      __autoenv_ps1_added=
    elif [[ ${PS1-} == *"$__autoenv_ps1_added"* ]]; then
      PS1=${PS1/"$__autoenv_ps1_added"/}
    fi
  fi
  [[ -n $text ]] || \builtin return 0
  if \builtin shopt -q promptvars; then
    # A reference, not the text: bash does not expand a parameter's value
    # again, so a directory name is shown as it is and never run.
    add='${__autoenv_prompt_text}'
  else
    add=${text//\\/\\\\}
  fi
  __autoenv_ps1_added=$add
  PS1=$add${PS1-}
}

# Brings the env up to date for $PWD.  Kept tiny, as are the other functions
# a prompt or a cd runs every time: bash copies a function's whole body at
# each call (a 60-line one costs about 40 us, a one-liner 3), so the work done
# only on a change lives in functions of its own.
__autoenv_update() {
  __autoenv_fresh || __autoenv_answer
}

# Runs the helper, or asks the server, for $PWD and applies the answer.
__autoenv_answer() {
  local out code=0
  # Recorded before the helper starts: if it is interrupted (Ctrl-C on a hung
  # mount or a slow creation), this directory counts as answered with nothing
  # to do, and the helper starts again only after a cd that may matter.
  __autoenv_forget
  __autoenv_ready=1
  __autoenv_pwd=$PWD
  __autoenv_venv=${VIRTUAL_ENV-}
  local -a serve=()
  if [[ ! -x $__autoenv_python || ! -f $__autoenv_helper ]]; then
    code=127
  elif __autoenv_serve_ask; then
    __autoenv_failed=0
    __autoenv_serve_starts=0
    __autoenv_venv=${VIRTUAL_ENV-}
    \builtin return 0
  else
    # No server yet: this run starts one (a few tries in a row at most; one
    # that served and ended, idle, is replaced any number of times; asking
    # needs ${name@a}, bash 4.4).
    if [[ -z $__autoenv_serve_dir && $__autoenv_serve_starts -lt 3 ]] &&
      (( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 404 )); then
      serve=(serve)
      __autoenv_serve_starts=$((__autoenv_serve_starts + 1))
    fi
    if [[ $__autoenv_failed == 1 ]]; then
      # Said once already; stay quiet until it works again.
      out=$("$__autoenv_python" -I -S "$__autoenv_helper" bash "$$" "$PWD" "${serve[@]}" 2>/dev/null) || code=$?
    else
      out=$("$__autoenv_python" -I -S "$__autoenv_helper" bash "$$" "$PWD" "${serve[@]}") || code=$?
    fi
  fi
  if [[ $code == 0 ]]; then
    \builtin eval -- "$out"
    __autoenv_compile
    __autoenv_failed=0
  else
    # 130: interrupted, nothing to say.  70: the helper caught its own error
    # and said so in one line already.
    if [[ $__autoenv_failed == 0 && $code != 130 ]]; then
      if [[ $code == 127 ]]; then
        \builtin printf 'autoenv: cannot run %s %s (gone after an upgrade or uninstall?); this shell stays as it is. Run: autoenv doctor\n' \
          "$__autoenv_python" "$__autoenv_helper" >&2
      elif [[ $code != 70 ]]; then
        \builtin printf 'autoenv: the helper failed (exit %s); this shell stays as it is. Run: autoenv doctor\n' \
          "$code" >&2
      fi
      __autoenv_failed=1
    fi
  fi
  __autoenv_venv=${VIRTUAL_ENV-}
}

# A prompt whose common case did not hold (see __autoenv_compile).
__autoenv_prompt_work() {
  if [[ $PWD == "$__autoenv_pwd" && $__autoenv_ready == 1 && ${VIRTUAL_ENV-} == "$__autoenv_venv" ]]; then
    __autoenv_changed && __autoenv_update
    [[ -z $__autoenv_watch_pending ]] || __autoenv_hand_over
  else
    __autoenv_update
  fi
  [[ $__autoenv_prompt_sig == "$BASHOPTS/${VIRTUAL_ENV_DISABLE_PROMPT:+off}" ]] || __autoenv_prompt_again
  [[ -z $__autoenv_settled_on && -n $__autoenv_watch_pending ]] || __autoenv_settle
}

# A chain to hand the server, now that this prompt has done its check (a cd,
# which does its own, comes here by the other branch and leaves it to the
# next prompt).  Not at the first prompt in that directory: a walk through
# directories (cd a, cd b, ...) goes on the token it came from and tests the
# few directories it found new, at no cost to the server; a second prompt
# there hands it over.  One for a directory left since (two cds on one line)
# is dropped: the prompt's common case waits for none.
__autoenv_hand_over() {
  local pending=$__autoenv_watch_pending
  __autoenv_watch_pending=
  # (Unless the check asked the server after all, and got a token.)
  [[ $pending == "$PWD" && -z ${__autoenv_tokens[$PWD]-} ]] || \builtin return 0
  if [[ $__autoenv_watch_deferred != "$PWD" ]]; then
    __autoenv_watch_deferred=$PWD
    __autoenv_watch_pending=$PWD
  else
    __autoenv_watch_deferred=
    __autoenv_serve_watch
  fi
}

# What the prefix was built for changed: the shopt options that are on
# ($BASHOPTS, promptvars among them) or VIRTUAL_ENV_DISABLE_PROMPT.  The
# prefix is built again (with none, the change is only noted).
__autoenv_prompt_again() {
  if [[ -n $__autoenv_prompt_raw ]]; then
    __autoenv_prompt_set "$__autoenv_prompt_raw"
  else
    __autoenv_prompt_sig=$BASHOPTS/${VIRTUAL_ENV_DISABLE_PROMPT:+off}
  fi
}

# cd, pushd and popd switch the env at once, so `cd proj && pytest` runs the
# project's pytest.  A cd function another tool defined first keeps working:
# it is saved under __autoenv_user_<name> and called in place of the builtin
# (the wrapper names which, so no `declare -F ... >/dev/null` runs at each cd:
# the redirection alone is half a dozen system calls).
__autoenv_chdir() {
  local command=$1
  \builtin shift
  if [[ $command == __autoenv_user_* ]]; then
    "$command" "$@"
  else
    \builtin "$command" "$@"
  fi
  local ret=$?
  # Not in a subshell such as $(cd dir && pwd): its changes vanish with it,
  # and a helper run there would only cost time (the prompt catches up).
  if [[ $BASHPID == "$$" ]]; then
    __autoenv_update
    [[ -z $__autoenv_settled_on && -n $__autoenv_watch_pending ]] || __autoenv_settle
  fi
  \builtin return "$ret"
}

__autoenv_wrap() {
  local command=$1 definition runner=$1
  definition=$(\builtin declare -f "$command") || definition=
  case $definition in
    *__autoenv_chdir*) \builtin return 0 ;;
    ?*)
      \builtin eval "__autoenv_user_${command}() ${definition#*$'\n'}"
      runner=__autoenv_user_$command
      ;;
  esac
  \builtin eval "${command}() { __autoenv_chdir ${runner} \"\$@\"; }"
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
  # Newlines count as separators too: bash-preexec rewrites the string with them.
  __autoenv_pc=${PROMPT_COMMAND-}
  # shellcheck disable=SC2128,SC2178
  case ";${__autoenv_pc//$'\n'/;};" in
    *";__autoenv_hook;"*) ;;
    *) PROMPT_COMMAND="__autoenv_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
  esac
  \builtin unset __autoenv_pc
fi
