# autoenv for fish 3.1+: autoenv init fish | source
# (in ~/.config/fish/conf.d/autoenv.fish)

set -g __autoenv_python @PYTHON@
set -g __autoenv_helper @HELPER@
set -g __autoenv_names @NAMES@
set -g __autoenv_forwarded @FORWARDED@
# From this many paths to check (words of `test`: four a path), the server's
# word is sought (__autoenv_compile).
set -g __autoenv_sync_words (math 4 \* @SYNC_FROM@)

# The functions run at a prompt or a cd come first.  Whenever a function
# starts a block or a call, fish counts the lines of the text it was sourced
# from, from its start up to where the function stands (to report where it
# is), at a few instructions a character: near the end of this file, that
# cost more than the function's work.  `autoenv init fish` leaves the
# comments out for the same reason.

# Defines __autoenv_on_prompt, run at every prompt, for a check of KIND
# (long, or short for the others; see __autoenv_compile): its common case in
# as few builtins as can be, and no call, each of which costs fish more than
# the stat calls it makes.  Anything else goes to __autoenv_prompt_work.
# Defining a function again replaces its handlers: init twice hooks once.
function __autoenv_define_on_prompt --argument-names kind
    set -g __autoenv_on_prompt_for $kind
    if builtin test $kind = long
        # Nothing to do by the prompt's test (__autoenv_compile) and by the
        # test of what __autoenv_aim found to go on, and the server asleep
        # with that token standing, as __autoenv_serve_asleep tests it.
        # The first test is written as "not (this -o that ...)": parentheses
        # cost fish's `test` more than a comparison.  No `if`: a block costs
        # fish more than the `and`s.
        function __autoenv_on_prompt --on-event fish_prompt
            not builtin test $__autoenv_prompt_test $__autoenv_aim_test -o ! -e $__autoenv_serve_stat
            and builtin string match -q -- $__autoenv_serve_sleeping <$__autoenv_serve_stat
            and builtin test -e $__autoenv_aim_token
            or __autoenv_prompt_work
        end
    else
        # The prompt's test (__autoenv_compile) finds nothing newer than the
        # stamp.  (An existing directory is newer than a missing stamp; the
        # paths are absolute, so none reads as an operator.)
        function __autoenv_on_prompt --on-event fish_prompt
            builtin test $__autoenv_prompt_test
            and __autoenv_prompt_work
        end
    end
end

# What the next prompt goes on where the server vouches for $PWD's chain
# (see __autoenv_define_on_prompt), worked out here, after each cd and
# each prompt with work to do (the only times it changes), rather than at
# every prompt, where comparing paths as long as $PWD costs fish more than
# the rest: __autoenv_aim_token, the token to find, and __autoenv_aim_test,
# more words for the prompt's `test` (true: no token to go on).  The
# token for $PWD at hand; or the token of the directory a walk came from,
# while none of the directories it found new changed (as __autoenv_changed
# does; a chain waiting to be handed over has no token at all).
function __autoenv_aim
    if builtin test "$__autoenv_token_dir" = "$PWD"
        set -g __autoenv_aim_test
        set -g __autoenv_aim_token $__autoenv_serve_tokens/$__autoenv_token
    else if builtin test "$__autoenv_base_for" = "$PWD" -a -n "$__autoenv_base_serial"
        set -g __autoenv_aim_test -o $__autoenv_base_news -z x
        set -g __autoenv_aim_token $__autoenv_serve_tokens/$__autoenv_base_serial
    else
        set -g __autoenv_aim_test -o -n x
        set -g __autoenv_aim_token ''
    end
end

# The PWD handler switches the env at the cd itself, so `cd proj; and pytest`
# runs the project's pytest; the prompt handler covers the first prompt and
# changes made in place (autoenv disable).  fish keeps $status around event
# handlers.  Defining a function again replaces its handlers: init twice hooks once.
function __autoenv_on_pwd --on-variable PWD
    # Until the answer is found to hold here (see __autoenv_compile).  A
    # chain left to hand over was the directory before's (two cds on one
    # line): the walk here leaves its own, if any.
    set -g __autoenv_prompt_test -n x
    set -g __autoenv_watch_pending
    # (__autoenv_update, without a call: fish's calls cost.)
    __autoenv_fresh; or __autoenv_answer
    builtin test "$__autoenv_on_prompt_for" = long; and __autoenv_aim
end

# Sets how __autoenv_changed decides, __autoenv_check, from the paths to
# check, and what the prompt tests, __autoenv_prompt_test (true: the prompt
# has work to do):
# - short: the arguments of one `test` that is true when a path changed;
# - long (SYNC_FROM paths or more below the key, or from it up; counting
#   both would copy them, which costs fish more), where a server can be
#   (and AUTOENV_SERVE is not 0): its
#   word, so the prompt's test is plain false and the prompt looks for the
#   server's token (and its checks need not hide the error of a fish without
#   `test -ef`);
# - always: an old fish without `test -nt`; the helper decides each time.
# Called whenever the paths change, and where the answer has just been
# found to hold for $PWD, VIRTUAL_ENV and VIRTUAL_ENV_DISABLE_PROMPT as they
# are; a change to any of them makes the prompt's test plain true until then
# (__autoenv_on_pwd, __autoenv_on_state), so the prompt need not compare them.
function __autoenv_compile
    # Long stays long whatever the part below the key is when the part from
    # the key up is long (a walk deep in a tree): only the prompt's test
    # comes back.
    if builtin test "$__autoenv_check" = long -a x"$AUTOENV_SERVE" != x0; and set -q __autoenv_above_test[$__autoenv_sync_words]
        set -g __autoenv_prompt_test -z x
        return 0
    end
    if builtin test "$__autoenv_can_compare" != 1
        set -g __autoenv_check always
        set -g __autoenv_prompt_test -n x
    else if builtin test $__autoenv_can_serve = 1 -a x"$AUTOENV_SERVE" != x0; and begin
            set -q __autoenv_below_test[$__autoenv_sync_words]; or set -q __autoenv_above_test[$__autoenv_sync_words]
        end
        set -g __autoenv_check long
        set -g __autoenv_prompt_test -z x
    else
        set -g __autoenv_check short
        set -g __autoenv_prompt_test $__autoenv_below_test $__autoenv_above_test -z x
    end
    if builtin test $__autoenv_check = long
        builtin test "$__autoenv_on_prompt_for" = long; or __autoenv_define_on_prompt long
    else
        builtin test "$__autoenv_on_prompt_for" = short; or __autoenv_define_on_prompt short
    end
    # `set` keeps the status of the failed `test` above.
    return 0
end

# Whether a path checked for $PWD (__autoenv_below_test and _above_test) is
# newer than the stamp: one `test`, unless the chain is long and the server
# vouches for it (__autoenv_serve_quiet), or for all of it but the
# directories a walk into it found new, which fish then tests itself (and
# goes on doing while that token stands: a walk through directories costs
# the server nothing).  A long chain fish had to test whole is handed to the
# server to watch, at the next prompt after its own check (a server at work
# is not asleep, and vouches for nothing until it is: sent at the cd, the
# prompt right after would test the whole chain again).
function __autoenv_changed
    switch $__autoenv_check
        case short
            builtin test $__autoenv_below_test $__autoenv_above_test -z x
        case long
            # A directory just walked into has no token of its own: no lookup.
            if builtin test "$__autoenv_base_for" != "$PWD" -o "$__autoenv_base_fresh" != 1
                __autoenv_serve_quiet; and return 1
            end
            if builtin test "$__autoenv_base_for" = "$PWD" -a -n "$__autoenv_base_serial"
                and __autoenv_serve_asleep $__autoenv_base_serial
                builtin test $__autoenv_base_news -z x
                return
            end
            builtin test $__autoenv_below_test $__autoenv_above_test -z x; and return 0
            # (The prompt's test needs no change: with no token here, the
            # prompt comes to __autoenv_prompt_work.)
            builtin test "$__autoenv_token_dir" = "$PWD"; or set -g __autoenv_watch_pending $PWD
            return 1
        case '*'
            return 0
    end
end

# Whether the server vouches, unasked, that nothing checked for $PWD changed
# since it last found it unchanged: __autoenv_serve_asleep on that check's
# token (which __autoenv_on_prompt writes out: it runs at every deep
# prompt).  The tokens for the last two directories asked about are kept at
# hand (__autoenv_token_dir and __autoenv_token, _before_dir and _before):
# looking one up in the lists takes a command substitution, which costs fish
# more than all the rest.
function __autoenv_serve_quiet
    if builtin test "$__autoenv_token_dir" = "$PWD" -a -n "$__autoenv_token"
        __autoenv_serve_asleep $__autoenv_token
        return
    end
    set -l dir $__autoenv_token_dir
    set -l token $__autoenv_token
    if builtin test "$__autoenv_token_before_dir" = "$PWD"
        set -g __autoenv_token $__autoenv_token_before
    else
        builtin contains -- $PWD $__autoenv_token_dirs; or return 1
        set -l index (builtin contains -i -- $PWD $__autoenv_token_dirs)
        set -g __autoenv_token $__autoenv_token_serials[$index]
    end
    set -g __autoenv_token_dir $PWD
    set -g __autoenv_token_before_dir $dir
    set -g __autoenv_token_before $token
    __autoenv_serve_quiet
end

# Whether the server is asleep (state S in /proc/PID/stat; the name is
# serve.PROCESS_NAME), and then whether TOKEN is there in its tokens
# directory (or, with none given, that directory: the server renames it away
# while it works, asleep or not).  Asleep, it has handled every event queued
# so far, since the kernel queues one within the call that makes a change.
# Asleep first, then the token: the other way round, an event could come
# between.  Found through /proc/PID/cwd, the token also proves the process is
# the server (see __autoenv_serve_open).  Its state is read only once /proc
# has the process, so with no redirection of stderr (with no server, the
# path is one that is not there: __autoenv_serve_state_paths).
function __autoenv_serve_asleep --argument-names token
    builtin test x"$AUTOENV_SERVE" != x0 -a -e $__autoenv_serve_stat; or return 1
    builtin string match -q -- $__autoenv_serve_sleeping <$__autoenv_serve_stat
    and builtin test -e "$__autoenv_serve_tokens/$token"
end

# 0 when the last answer still holds for $PWD, 1 when the helper must run.
function __autoenv_fresh
    # Answered, `test -nt` at hand, and VIRTUAL_ENV as the answer left it
    # (__autoenv_venv_held: comparing the paths, quoted, cost fish more than
    # the rest of this test), as one word.  An empty stamp: none could be
    # written anywhere, and the helper sent no directories to compare; the
    # answer holds until the next cd.  Two tests: parentheses cost more.
    builtin test $__autoenv_ready$__autoenv_can_compare$__autoenv_venv_held = 111; or return 1
    builtin test -e "$__autoenv_stamp" -o -z "$__autoenv_stamp"; or return 1
    if builtin test "$PWD" = "$__autoenv_pwd"
        __autoenv_changed; and return 1
        return 0
    end
    builtin test -n "$__autoenv_stamp"; or return 1
    # Outside the directory the answer hangs on: the answer changes.  (See
    # __autoenv_answered: the glob may let in a directory that is not below
    # the key, which the walk below then finds out.)
    builtin string match -q -- "$__autoenv_key_glob" "$PWD/"; or return 1
    # A directory walked before since the stamp (cd back and forth): the
    # directories that walk found clean need only be unchanged.  A walk costs
    # fish a dozen builtins per directory, a memory a few builtins in all.
    # The walk the directory before this one started is at hand; any other
    # is looked up (a command substitution).
    set -l seen $__autoenv_walk_before
    if builtin test "$PWD" != "$__autoenv_walk_before_dir"
        set seen
        builtin contains -- $PWD $__autoenv_walked; and set seen (builtin contains -i -- $PWD $__autoenv_walked)
    end
    set -g __autoenv_walk_before_dir $__autoenv_pwd
    set -g __autoenv_walk_before $__autoenv_walk_here
    set -g __autoenv_walk_here $seen
    if builtin test -n "$seen"
        # (Set before the check: when it fails, the helper's answer replaces them.)
        set -l walked_below __autoenv_walked_below_$seen
        set -l walked_test __autoenv_walked_test_$seen
        set -l walked_base __autoenv_walked_base_$seen
        set -g __autoenv_below $$walked_below
        set -g __autoenv_below_test $$walked_test
        # Back on the token that walk went on, while it stands (it may have
        # one of its own by now: __autoenv_serve_quiet looks first).
        set -l base $$walked_base
        set -g __autoenv_base_for $PWD
        set -g __autoenv_base_serial $base[1]
        set -g __autoenv_base_news $base[2..-1]
        set -g __autoenv_base_fresh 0
        __autoenv_compile
        set -g __autoenv_pwd $PWD
        __autoenv_changed; and return 1
        return 0
    end
    # A new directory: nothing between it and the directory the answer hangs on
    # may hold a watched name.  Directories the last answer already covered
    # (the old $PWD's ancestors below that directory), and those a walk since
    # the stamp found clean, need only be unchanged.
    set -l below
    set -l below_test
    set -l news
    set -l dir $PWD
    while builtin test "$dir" != "$__autoenv_key"
        if builtin contains -- "$dir" $__autoenv_below
            # The directory before's own, or its parent (a cd to a sibling),
            # without a command substitution.
            set -l index 1
            if builtin test "$dir" = "$__autoenv_below[2]"
                set index 2
            else if builtin test "$dir" != "$__autoenv_below[1]"
                set index (builtin contains -i -- "$dir" $__autoenv_below)
            end
            for known in $__autoenv_below[$index..-1]
                set -a below $known
                set -a below_test $known -nt $__autoenv_stamp -o
            end
            break
        end
        if not builtin contains -- $dir $__autoenv_clean
            # $PWD by its shortest name: a lookup of each name walks every
            # directory of the path it is given.
            if builtin test "$dir" = "$PWD"
                builtin test $__autoenv_watched_here; and return 1
            else
                __autoenv_has_watched $dir; and return 1
            end
            set -a __autoenv_clean $dir
        end
        set -a below $dir
        set -a below_test $dir -nt $__autoenv_stamp -o
        set -a news $dir -nt $__autoenv_stamp -o
        if builtin test "$dir" = / -o -z "$dir"
            builtin test -z "$__autoenv_key"; or return 1
            break
        end
        # The parent: what a regex's named group captures is set as a
        # variable (fish 3.2), with no command substitution, which costs fish
        # more than the rest of a directory's walk.
        if builtin test $__autoenv_can_capture = 1
            builtin string match -q -r -- '^(?s)(?<dir>.*)/[^/]*$' "$dir"
        else
            set dir (builtin string replace -r -- '/[^/]*$' '' "$dir")
            # A name holding a newline comes back split: the helper walks it.
            set -q dir[2]; and return 1
        end
        builtin test -n "$dir"; or set dir /
    end
    set -g __autoenv_below $below
    set -g __autoenv_below_test $below_test
    __autoenv_compile
    # The rest of a long chain is the last directory's: its token (or the one
    # it went on, for a few walks) vouches for it; only the two tokens at hand
    # are looked at.  A short one is tested whole.
    if builtin test $__autoenv_check != long
        set -g __autoenv_base_serial
    else if builtin test "$__autoenv_token_dir" = "$__autoenv_pwd"
        set -g __autoenv_base_serial $__autoenv_token
        set -g __autoenv_base_news $news
    else if builtin test "$__autoenv_token_before_dir" = "$__autoenv_pwd"
        set -g __autoenv_base_serial $__autoenv_token_before
        set -g __autoenv_base_news $news
    else if builtin test "$__autoenv_base_for" = "$__autoenv_pwd"; and not set -q __autoenv_base_news[256]
        # Of the directories found new before, those still on the way to
        # $PWD (the other words are `test`'s).
        for known in $__autoenv_base_news
            builtin contains -- $known $below; and set -a news $known -nt $__autoenv_stamp -o
        end
        set -g __autoenv_base_news $news
    else
        set -g __autoenv_base_serial
    end
    # As many new directories as a chain fish leaves to the server: tested
    # whole once and handed over, rather than tested at every prompt.
    set -q __autoenv_base_news[$__autoenv_sync_words]; and set -g __autoenv_base_serial
    set -g __autoenv_base_for $PWD
    set -g __autoenv_base_fresh 1
    set -g __autoenv_pwd $PWD
    __autoenv_changed; and return 1
    # Remembered for the way back (a bounded number of directories).
    set -q __autoenv_walk_free[1]; or __autoenv_forget_walks
    set -l seen $__autoenv_walk_free[1]
    set -e __autoenv_walk_free[1]
    set -g -a __autoenv_walked $PWD
    set -g __autoenv_walked_below_$seen $below
    set -g __autoenv_walked_test_$seen $below_test
    # (The directories found new count only with a token to go on.)
    if builtin test -n "$__autoenv_base_serial"
        set -g __autoenv_walked_base_$seen $__autoenv_base_serial $__autoenv_base_news
    else
        set -g __autoenv_walked_base_$seen ''
    end
    set -g __autoenv_walk_here $seen
    return 0
end

# A prompt whose common case did not hold (see __autoenv_define_on_prompt).
function __autoenv_prompt_work
    if not builtin test "$PWD" = "$__autoenv_pwd" -a $__autoenv_venv_held = 1 -a "$__autoenv_ready" = 1 \
            -a x"$VIRTUAL_ENV_DISABLE_PROMPT" = x"$__autoenv_prompt_seen"
        __autoenv_update
        # VIRTUAL_ENV_DISABLE_PROMPT set or unset since: build the prefix again.
        set -g __autoenv_prompt_seen "$VIRTUAL_ENV_DISABLE_PROMPT"
        if builtin test -n "$__autoenv_prompt_raw" -a \( -n "$VIRTUAL_ENV_DISABLE_PROMPT" -a "$__autoenv_prompt_off" = 0 \
                -o -z "$VIRTUAL_ENV_DISABLE_PROMPT" -a "$__autoenv_prompt_off" = 1 \)
            __autoenv_prompt_set $__autoenv_prompt_raw
        end
    else
        __autoenv_changed; and __autoenv_update
        # A chain to hand the server, now that this prompt has done its check
        # (a cd, which does its own, comes here by the other branch).  One for
        # a directory left since (two cds on one line) is dropped: the common
        # case waits for none.
        if builtin test -n "$__autoenv_watch_pending"
            builtin test "$__autoenv_watch_pending" = "$PWD"; and __autoenv_serve_watch
            set -g __autoenv_watch_pending
        end
    end
    # The answer holds for things as they are now: the prompt's test again,
    # if a change (__autoenv_on_state) took it away and no answer since
    # brought it back.
    builtin test "$__autoenv_prompt_test" = "-n x"; and __autoenv_compile
    builtin test "$__autoenv_on_prompt_for" = long; and __autoenv_aim
    return 0
end

function __autoenv_update
    __autoenv_fresh; or __autoenv_answer
end

# An env activated or left by hand, VIRTUAL_ENV_DISABLE_PROMPT or
# AUTOENV_SERVE changed: the prompt looks again (see __autoenv_compile).
# Also run when an answer sets VIRTUAL_ENV, before it compiles.
function __autoenv_on_state --on-variable VIRTUAL_ENV --on-variable VIRTUAL_ENV_DISABLE_PROMPT --on-variable AUTOENV_SERVE
    set -g __autoenv_prompt_test -n x
    builtin test "$argv[3]" = VIRTUAL_ENV; and set -g __autoenv_venv_held 0
end

# State between helper runs.  The helper proves what an answer depends on; the
# shell re-checks that with builtin tests only, so an unchanged prompt or a cd
# that changes nothing starts no process.
# __autoenv_below: the directories from $PWD up to the one the answer hangs on
# (__autoenv_key); __autoenv_below_test and __autoenv_above_test: those and the
# ones above, as arguments of one `test`: DIR -nt STAMP -o ...  What the
# prompt tests first, and how __autoenv_changed decides, follow from them
# (__autoenv_compile).
# __autoenv_extra: the paths among those outside the chain from $PWD to /.
# __autoenv_token_dirs and __autoenv_token_serials: directories the server was
# asked to vouch for, and the serial whose token file says it still does;
# __autoenv_token_dir and __autoenv_token: the last of them looked at.
# __autoenv_base_for, __autoenv_base_serial and __autoenv_base_news: a new
# directory's chain that a token vouches for but for the directories the walk
# into it found new (test arguments; see __autoenv_changed), and
# __autoenv_base_fresh, 1 while that directory has no token of its own;
# __autoenv_watch_pending: the directory whose chain the next prompt hands the
# server to watch.
# __autoenv_clean: directories a walk found without any watched name since the
# stamp was written; __autoenv_walked: the directories walks started from (each
# walk's own directories are in __autoenv_walked_below_N, their test arguments
# in __autoenv_walked_test_N, and the token it went on with the test of the
# directories it found new in __autoenv_walked_base_N).
# Forgets what the last answer proved, before the helper gives the next one.
function __autoenv_forget
    set -g __autoenv_key
    set -g __autoenv_below
    set -g __autoenv_below_test
    set -g __autoenv_above_test
    set -g __autoenv_extra
    set -g __autoenv_token_dirs
    set -g __autoenv_token_serials
    set -g __autoenv_token_dir
    set -g __autoenv_token_before_dir
    set -g __autoenv_base_for
    set -g __autoenv_base_news
    set -g __autoenv_base_fresh 0
    set -g __autoenv_watch_pending
    __autoenv_forget_walks
    set -g __autoenv_key_glob '*'
    __autoenv_compile
end

# Forgets the walks (see __autoenv_fresh), which of them $PWD and the
# directory before it started, and the directories they found clean (a list
# `contains` reads whole: kept as short as the walks).  A walk's number is the
# next of __autoenv_walk_free (`count` would take a command substitution);
# 16 of them, since each cd into a new directory looks through the list of
# directories they started from, which fish copies to do so.
function __autoenv_forget_walks
    set -g __autoenv_walked
    set -g __autoenv_clean
    set -g __autoenv_walk_free $__autoenv_walk_numbers
    set -g __autoenv_walk_here
    set -g __autoenv_walk_before_dir
    set -g __autoenv_walk_before
end
set -g __autoenv_walk_numbers (builtin string split ' ' -- '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16')

set -g __autoenv_ready 0
set -g __autoenv_pwd
# 1 while VIRTUAL_ENV is as the last answer left it (__autoenv_on_state
# clears it at any change).
set -g __autoenv_venv_held 0
set -g __autoenv_stamp
set -q __autoenv_failed; or set -g __autoenv_failed 0
set -q __autoenv_warned; or set -g __autoenv_warned
# Kept across a second init: the prompt may be wrapped already.
set -q __autoenv_prompt_text; or set -g __autoenv_prompt_text
set -q __autoenv_prompt_raw; or set -g __autoenv_prompt_raw
set -q __autoenv_prompt_off; or set -g __autoenv_prompt_off 0
# VIRTUAL_ENV_DISABLE_PROMPT as the last prompt that looked at it saw it.
set -q __autoenv_prompt_seen; or set -g __autoenv_prompt_seen
# The server (autoenv/serve.py) this shell asks in place of starting a helper;
# kept when this file is sourced again, since it goes on serving.
set -q __autoenv_serve_dir; or set -g __autoenv_serve_dir
set -q __autoenv_serve_pid; or set -g __autoenv_serve_pid
set -q __autoenv_serve_tokens; or set -g __autoenv_serve_tokens
set -q __autoenv_serve_serial; or set -g __autoenv_serve_serial 0
# Serials are BASE followed by two digits, 00 to 63, taken from a stock
# (__autoenv_serve_stock, see __autoenv_serve_next); an init over one from
# before the stock starts above the last serial.
set -q __autoenv_serve_base; or set -g __autoenv_serve_base $__autoenv_serve_serial
set -q __autoenv_serve_stock; or set -g __autoenv_serve_stock
set -g __autoenv_serve_ends 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 \
    32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
set -q __autoenv_serve_starts; or set -g __autoenv_serve_starts 0
# Where the server's state is read, and what it reads while the server
# sleeps (see __autoenv_serve_asleep), made once per server: each word
# joined at a prompt costs fish.  With no server, a path that is not there
# (/proc//stat would be /proc/stat).
function __autoenv_serve_state_paths
    set -l pid $__autoenv_serve_pid
    builtin test -n "$pid"; or set pid none
    set -g __autoenv_serve_stat /proc/$pid/stat
    set -g __autoenv_serve_sleeping "$pid (autoenv-serve) S *"
end
__autoenv_serve_state_paths
# The names of the variables sent to the server, as one expression; only
# plain names go in, so it holds no other syntax.
set -g __autoenv_forwarded_regex '^(?:'(builtin string join '|' -- (builtin string match -r -- '^[A-Za-z_][A-Za-z0-9_]*$' $__autoenv_forwarded))')'
# fish holds no file open between commands, so it writes each request to a
# file of its own (a FIFO's open would wait for ever for a server killed
# just before it), and asks only a server /proc shows alive in its channel
# (test -ef, which an old fish lacks: then fish does without).
if builtin test -d /proc/self/fd -a / -ef / 2>/dev/null
    set -g __autoenv_can_serve 1
else
    set -g __autoenv_can_serve 0
end
# The wait for an answer, in rounds: a read on a FIFO has no timeout in fish
# and does not stop at Ctrl-C, so fish looks for the server's reply file
# instead.  A round takes a few microseconds, an answer a millisecond or two;
# all rounds, about a second here, then fish gives up on the server.
set -g __autoenv_serve_inner (builtin string split '' -- (builtin string repeat -n 2000 x))
set -g __autoenv_serve_outer (builtin string split '' -- (builtin string repeat -n 100 x))

# Named groups of a regex set variables from fish 3.2 (see __autoenv_fresh);
# an older fish ignores the name, and the probe stays unset.
builtin string match -q -r -- '(?<__autoenv_probe>.)' x
if set -q __autoenv_probe
    set -g __autoenv_can_capture 1
else
    set -g __autoenv_can_capture 0
end
set -e __autoenv_probe

# fish learnt `test -nt` late; without it every prompt asks the helper.
# An existing file is newer than a missing one, and an old fish reports an error.
if builtin test / -nt /__autoenv_missing_$fish_pid 2>/dev/null
    set -g __autoenv_can_compare 1
else
    set -g __autoenv_can_compare 0
end

set -g __autoenv_on_prompt_for
__autoenv_forget
# Nothing answered yet.
set -g __autoenv_prompt_test -n x
set -g __autoenv_aim_test -o -n x
set -g __autoenv_aim_token ''

# After an answer: the directory it hangs on as a glob that "$PWD/" matches
# below it, for the check at each cd (made once here: a command
# substitution costs fish more than a dozen builtins), and the prompt's
# test.  A glob, since fish compiles a regex at each match, which costs it
# more than the match.  Its wildcards may let in more than the directory:
# `string match` reads * and ? in the name as wildcards, and a backslash
# (which it may read as an escape) is made one; the walk up from $PWD finds
# out a directory let in wrongly (see __autoenv_fresh).
function __autoenv_answered
    set -g __autoenv_key_glob '*'
    if builtin test -n "$__autoenv_key" -a "$__autoenv_key" != /
        set -g __autoenv_key_glob (builtin printf '%s' "$__autoenv_key" | builtin string replace -a -- \\ '*' | builtin string collect)/'*'
    end
    __autoenv_compile
end

# __autoenv_has_watched DIR: whether DIR holds any watched name.  One `test`
# built once from the names: a loop over them costs fish more than the stat
# calls it makes, on every directory a cd walks.
function __autoenv_define_has_watched
    set -l expression
    # The same for $PWD, __autoenv_watched_here: the arguments of a `test` in
    # place (no call, at each first visit).
    set -g __autoenv_watched_here
    for name in $__autoenv_names
        set -l path '"$argv[1]"'(builtin string escape -- /$name)
        set -a expression -o -e $path -o -L $path
        set -a __autoenv_watched_here -o -e ./$name -o -L ./$name
    end
    builtin printf '%s\n' "function __autoenv_has_watched; builtin test $expression[2..-1]; end" | builtin source
    set -e __autoenv_watched_here[1]
end
__autoenv_define_has_watched
builtin functions -e __autoenv_define_has_watched

# Prints TEXT (a warning the helper cannot keep a record of) unless this
# shell printed it already.
function __autoenv_warn_once
    builtin test "$argv[1]" = "$__autoenv_warned"; and return 0
    set -g __autoenv_warned $argv[1]
    builtin printf '%s\n' $argv[1] >&2
end

# Shows TEXT (e.g. "(proj) ") before the prompt, or nothing when TEXT is empty,
# through fish_mode_prompt, whose output fish puts before fish_prompt's.  Your
# fish_prompt is left as it is, and sees the last command's $status and
# $pipestatus: a wrapper around it would cost fish a function call at every
# prompt, more than autoenv's own check there.  For the same reason the mode
# prompt's own code is written into ours, after the prefix (the vi mode's
# [I] follows it), not called; the original is copied to
# __autoenv_user_mode_prompt and copied back exactly on leaving.
function __autoenv_prompt_set
    set -g __autoenv_prompt_raw $argv[1]
    set -g __autoenv_prompt_text $argv[1]
    set -g __autoenv_prompt_off 0
    if builtin test -n "$VIRTUAL_ENV_DISABLE_PROMPT"
        set -g __autoenv_prompt_text
        set -g __autoenv_prompt_off 1
    end
    set -l wrapped 0
    if builtin functions -q fish_mode_prompt
        builtin string match -q -- '*__autoenv_prompt_text*' (builtin functions fish_mode_prompt); and set wrapped 1
    end
    if builtin test -z "$__autoenv_prompt_text"
        if builtin test $wrapped = 1
            builtin functions -e fish_mode_prompt
            builtin functions -q __autoenv_user_mode_prompt; and builtin functions -c __autoenv_user_mode_prompt fish_mode_prompt
        end
        # (Not wrapped: yours replaced ours, and the copy is stale.)
        builtin functions -e __autoenv_user_mode_prompt
        return 0
    end
    builtin test $wrapped = 1; and return 0
    # `functions` prints comments (where it was defined) before the header.
    set -l header 'function fish_mode_prompt'
    set -l body end
    builtin functions -e __autoenv_user_mode_prompt
    if builtin functions -q fish_mode_prompt
        builtin functions -c fish_mode_prompt __autoenv_user_mode_prompt
        set body (builtin functions fish_mode_prompt)
        while set -q body[1]
            set header $body[1]
            set -e body[1]
            builtin string match -q -- 'function *' $header; and break
        end
    end
    builtin printf '%s\n' $header '    builtin printf %s "$__autoenv_prompt_text"' $body | builtin source
end

# An autoenv from before fish_mode_prompt carried the prefix wrapped
# fish_prompt; an init over it puts that back.
if builtin functions -q __autoenv_user_prompt
    builtin functions -e fish_prompt
    builtin functions -c __autoenv_user_prompt fish_prompt
    builtin functions -e __autoenv_user_prompt
end

# Called from the helper's output: server PID listens on DIR.  Its tokens
# are looked for through /proc/PID/cwd (the channel), in a directory named
# after the channel's random part (serve.tokens_dir): a PID gone to another
# process leads elsewhere.
function __autoenv_serve_open --argument-names dir pid
    set -g __autoenv_serve_dir $dir
    set -g __autoenv_serve_pid $pid
    set -g __autoenv_serve_tokens /proc/$pid/cwd/tokens-(builtin string split -r -m1 -- - $dir)[-1]
    __autoenv_serve_state_paths
end

function __autoenv_serve_close
    set -g __autoenv_serve_dir
    set -g __autoenv_serve_pid
    set -g __autoenv_serve_tokens
    __autoenv_serve_state_paths
    set -g __autoenv_token_dirs
    set -g __autoenv_token_serials
    set -g __autoenv_token_dir
    set -g __autoenv_token_before_dir
end

# Whether the server is there to ask: alive, in its channel.
function __autoenv_serve_usable
    builtin test -n "$__autoenv_serve_dir" -a x"$AUTOENV_SERVE" != x0; or return 1
    if not builtin test -d $__autoenv_serve_dir/requests -a -d /proc/$__autoenv_serve_pid
        __autoenv_serve_close
        return 1
    end
    # Not in its channel: still starting, or the number went to another process.
    builtin test /proc/$__autoenv_serve_pid/cwd -ef $__autoenv_serve_dir 2>/dev/null
end

# The next request's serial into __autoenv_serve_serial: the next of the
# stock, which is made 64 at a time.  `math` takes a command substitution,
# which costs fish more than the rest of a request's sending.
function __autoenv_serve_next
    if not set -q __autoenv_serve_stock[1]
        set -g __autoenv_serve_base (math $__autoenv_serve_base + 1)
        set -g __autoenv_serve_stock $__autoenv_serve_base$__autoenv_serve_ends
    end
    set -g __autoenv_serve_serial $__autoenv_serve_stock[1]
    set -e __autoenv_serve_stock[1]
end

# Asks the server to watch every path checked for $PWD (its chain and
# __autoenv_extra) and leave a token while none changed since the stamp
# (autoenv/watch.py); waits for nothing.  Only a server asleep is asked: one
# that is stopped or stuck would never take the request.  None is asked when
# the check got a token after all.
function __autoenv_serve_watch
    builtin test -n "$__autoenv_stamp" -a "$__autoenv_token_dir" != "$PWD"; or return
    __autoenv_serve_asleep; or return
    __autoenv_serve_next
    builtin printf '%s\0' $__autoenv_serve_serial $PWD :watch $__autoenv_stamp $__autoenv_extra . \
        >$__autoenv_serve_dir/requests/$__autoenv_serve_serial; or return
    __autoenv_serve_token $__autoenv_serve_serial
end

# Called from the server's answer: it left token SERIAL for $PWD's chain.
function __autoenv_serve_token --argument-names serial
    set -g __autoenv_token_dir $PWD
    set -g __autoenv_token $serial
    builtin test "$__autoenv_token_before_dir" != "$PWD"; or set -g __autoenv_token_before_dir
    if builtin test "$__autoenv_base_for" = "$PWD" -a "$__autoenv_base_fresh" = 1
        # A directory just walked into: not in the lists.
        set -g __autoenv_base_fresh 0
    else if builtin contains -- $PWD $__autoenv_token_dirs
        set -l index (builtin contains -i -- $PWD $__autoenv_token_dirs)
        set -g __autoenv_token_serials[$index] $serial
        return
    end
    # The lists stay short: `contains` reads them whole, and adding to a list
    # copies it.  The older half goes when they are full (those directories
    # ask again, or hand their chain over again).
    if set -q __autoenv_token_dirs[64]
        set -e __autoenv_token_dirs[1..32]
        set -e __autoenv_token_serials[1..32]
    end
    set -g -a __autoenv_token_dirs $PWD
    set -g -a __autoenv_token_serials $serial
end

# Asks the server for the answer for $PWD and applies it: 0, or 1 when a helper
# must run instead (no server, or it handed the request back).  A server that
# is gone is forgotten; the next helper run starts another.
function __autoenv_serve_ask
    __autoenv_serve_usable; or return 1
    set -l pairs
    for name in (builtin string match -r -e -- $__autoenv_forwarded_regex (builtin set --names --export))
        # Quoted, a list is joined the way fish exports it (colons for a path variable).
        set -a pairs "$name=$$name"
    end
    __autoenv_serve_next
    builtin printf '%s\0' $__autoenv_serve_serial $PWD $pairs . >$__autoenv_serve_dir/requests/$__autoenv_serve_serial
    or return 1
    set -l ok $__autoenv_serve_dir/$__autoenv_serve_serial.ok
    set -l back $__autoenv_serve_dir/$__autoenv_serve_serial.process
    for outer in $__autoenv_serve_outer
        # A server that died meanwhile is given up on at once.
        builtin test /proc/$__autoenv_serve_pid/cwd -ef $__autoenv_serve_dir; or break
        for inner in $__autoenv_serve_inner
            builtin test -e $ok -o -e $back; or continue
            builtin test -e $ok; or return 1
            builtin source $__autoenv_serve_dir/answer
            __autoenv_answered
            return 0
        end
    end
    # No answer in about a second, or no server: on its own from now on.
    __autoenv_serve_close
    return 1
end

# Runs the helper, or asks the server, for $PWD and applies the answer.
function __autoenv_answer
    # Answered for this directory before the helper starts: if Ctrl-C stops it
    # (a hanging network mount), fish abandons this function, and the next
    # prompt must not start it again; the next cd does.
    set -g __autoenv_ready 1
    set -g __autoenv_pwd $PWD
    set -g __autoenv_venv_held 1
    __autoenv_forget
    set -l code 127
    set -l out
    if builtin test -x "$__autoenv_python" -a -f "$__autoenv_helper"
        if __autoenv_serve_ask
            set -g __autoenv_failed 0
            set -g __autoenv_serve_starts 0
            set -g __autoenv_venv_held 1
            return 0
        end
        # No server yet: this run starts one (a few tries in a row at most;
        # one that served and ended, idle, is replaced any number of times).
        set -l serve
        if builtin test -z "$__autoenv_serve_dir" -a $__autoenv_can_serve = 1 -a $__autoenv_serve_starts -lt 3
            set serve serve
            set -g __autoenv_serve_starts (math $__autoenv_serve_starts + 1)
        end
        if builtin test "$__autoenv_failed" = 1
            # Said once already; stay quiet until it works again.
            set out ($__autoenv_python -I -S $__autoenv_helper fish $fish_pid $PWD $serve 2>/dev/null)
        else
            set out ($__autoenv_python -I -S $__autoenv_helper fish $fish_pid $PWD $serve)
        end
        set code $status
    end
    if builtin test $code = 0
        builtin string join \n -- $out | builtin source
        __autoenv_answered
        set -g __autoenv_failed 0
    else
        # 130: interrupted, nothing to say.  70: the helper caught its own
        # error and said so in one line already.
        if builtin test "$__autoenv_failed" = 0 -a $code != 130
            if builtin test $code = 127
                builtin printf 'autoenv: cannot run %s %s (gone after an upgrade or uninstall?); this shell stays as it is. Run: autoenv doctor\n' \
                    "$__autoenv_python" "$__autoenv_helper" >&2
            else if builtin test $code != 70
                builtin printf 'autoenv: the helper failed (exit %s); this shell stays as it is. Run: autoenv doctor\n' $code >&2
            end
            set -g __autoenv_failed 1
        end
        # Asked again only after a cd into a directory that may matter.
    end
    set -g __autoenv_venv_held 1
end
