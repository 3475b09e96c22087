# autoenv for PowerShell 7: autoenv init pwsh | Out-String | Invoke-Expression
# (in $PROFILE).  Every cmdlet is named with its module, so aliases and
# functions a user put in place of cd, Get-Item & co. change nothing here.

$global:__autoenv_python = @PYTHON@
$global:__autoenv_helper = @HELPER@
$global:__autoenv_names = [string[]]@(@NAMES@)

# State between helper runs.  The helper proves what an answer depends on; the
# shell re-checks that with .NET file tests only, so an unchanged prompt or a
# cd that changes nothing starts no process.
$global:__autoenv_ready = 0
$global:__autoenv_pwd = ''
$global:__autoenv_venv = ''
$global:__autoenv_key = ''
$global:__autoenv_stamp = ''
$global:__autoenv_below = [string[]]@()
$global:__autoenv_above = [string[]]@()
if (-not (Microsoft.PowerShell.Utility\Get-Variable -Name __autoenv_failed -Scope Global -ErrorAction Ignore)) {
    $global:__autoenv_failed = 0
}
if (-not (Microsoft.PowerShell.Utility\Get-Variable -Name __autoenv_warned -Scope Global -ErrorAction Ignore)) {
    $global:__autoenv_warned = ''
}
if (-not (Microsoft.PowerShell.Utility\Get-Variable -Name __autoenv_prompt_text -Scope Global -ErrorAction Ignore)) {
    $global:__autoenv_prompt_text = ''
}

function global:__autoenv_here {
    # The helper only knows file systems: elsewhere (Env:, HKLM:) nothing changes.
    $location = $ExecutionContext.SessionState.Path.CurrentLocation
    if ($location.Provider.Name -ne 'FileSystem') { return $null }
    return $location.ProviderPath
}

function global:__autoenv_newer([string[]] $dirs, [datetime] $since) {
    foreach ($dir in $dirs) {
        if ([System.IO.Directory]::GetLastWriteTimeUtc($dir) -gt $since) { return $true }
    }
    return $false
}

# $true when the last answer still holds for the current directory.
function global:__autoenv_fresh([string] $here) {
    if ($global:__autoenv_ready -ne 1) { return $false }
    if ("$([System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV'))" -cne $global:__autoenv_venv) { return $false }
    $stamp = $global:__autoenv_stamp
    # An empty stamp: none could be written anywhere, and the helper sent no
    # directories to compare; the answer holds until the next cd.
    if (-not $stamp) { return ($here -ceq $global:__autoenv_pwd) }
    if (-not [System.IO.File]::Exists($stamp)) { return $false }
    $since = [System.IO.File]::GetLastWriteTimeUtc($stamp)
    if ($here -ceq $global:__autoenv_pwd) {
        return -not (__autoenv_newer ($global:__autoenv_below + $global:__autoenv_above) $since)
    }
    # A new directory: nothing between it and the directory the answer hangs on
    # may hold a watched name.
    $below = [System.Collections.Generic.List[string]]::new()
    $dir = $here
    while ($dir -cne $global:__autoenv_key) {
        foreach ($name in $global:__autoenv_names) {
            $candidate = [System.IO.Path]::Combine($dir, $name)
            if ([System.IO.File]::Exists($candidate) -or [System.IO.Directory]::Exists($candidate)) { return $false }
        }
        $below.Add($dir)
        $parent = [System.IO.Path]::GetDirectoryName($dir)
        if ([string]::IsNullOrEmpty($parent)) {
            if ($global:__autoenv_key) { return $false }
            break
        }
        $dir = $parent
    }
    if (__autoenv_newer $global:__autoenv_above $since) { return $false }
    $global:__autoenv_below = $below.ToArray()
    $global:__autoenv_pwd = $here
    return $true
}

# Prints TEXT (a warning the helper cannot keep a record of) unless this
# session printed it already.
function global:__autoenv_warn_once([string] $text) {
    if ($text -ceq $global:__autoenv_warned) { return }
    $global:__autoenv_warned = $text
    [System.Console]::Error.WriteLine($text)
}

# Shows TEXT (e.g. "(proj) ") before the prompt, or nothing when TEXT is empty;
# VIRTUAL_ENV_DISABLE_PROMPT is read at each prompt, so setting it acts at once.
function global:__autoenv_prompt_set([string] $text) {
    $global:__autoenv_prompt_text = $text
}

function global:__autoenv_update {
    # The user's preferences must not turn a failed helper into a terminating error.
    $ErrorActionPreference = 'Continue'
    $PSNativeCommandUseErrorActionPreference = $false
    $here = __autoenv_here
    if ($null -eq $here -or (__autoenv_fresh $here)) { return }
    # Answered for this directory before the helper starts: if Ctrl-C stops it
    # (a hanging network mount), the next prompt must not start it again.
    $global:__autoenv_ready = 1
    $global:__autoenv_pwd = $here
    $global:__autoenv_venv = "$([System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV'))"
    $global:__autoenv_key = ''
    $global:__autoenv_below = [string[]]@()
    $global:__autoenv_above = [string[]]@()
    $out = $null
    $exit = 127
    if ([System.IO.File]::Exists($global:__autoenv_python) -and [System.IO.File]::Exists($global:__autoenv_helper)) {
        $encoding = [System.Console]::OutputEncoding
        try {
            # Paths are UTF-8 both ways, whatever the console code page.
            try { [System.Console]::OutputEncoding = [System.Text.UTF8Encoding]::new($false) } catch { }
            if ($global:__autoenv_failed -eq 1) {
                # Said once already; stay quiet until it works again.
                $out = & $global:__autoenv_python -X utf8 -I -S $global:__autoenv_helper pwsh $PID $here 2>$null
            } else {
                $out = & $global:__autoenv_python -X utf8 -I -S $global:__autoenv_helper pwsh $PID $here
            }
            $exit = $LASTEXITCODE
        } catch {
            $exit = 127
        } finally {
            try { [System.Console]::OutputEncoding = $encoding } catch { }
        }
    }
    if ($exit -eq 0) {
        $code = @($out) -join "`n"
        if ($code) { Microsoft.PowerShell.Utility\Invoke-Expression -Command $code }
        $global:__autoenv_failed = 0
    } else {
        if ($global:__autoenv_failed -eq 0 -and $exit -ne 130) {
            # 70: the helper caught its own error and said so in one line already.
            if ($exit -eq 127) {
                [System.Console]::Error.WriteLine(("autoenv: cannot run {0} {1} (gone after an upgrade or uninstall?); " +
                    "this shell stays as it is. Run: autoenv doctor") -f $global:__autoenv_python, $global:__autoenv_helper)
            } elseif ($exit -ne 70) {
                [System.Console]::Error.WriteLine(
                    "autoenv: the helper failed (exit $exit); this shell stays as it is. Run: autoenv doctor")
            }
            $global:__autoenv_failed = 1
        }
        # Asked again only after a cd into a directory that may matter.
    }
    $global:__autoenv_venv = "$([System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV'))"
}

# Runs the update without touching $LASTEXITCODE, which the user's prompt may show.
function global:__autoenv_hook {
    $saved = Microsoft.PowerShell.Utility\Get-Variable -Name LASTEXITCODE -Scope Global -ErrorAction Ignore
    try {
        __autoenv_update
    } finally {
        if ($saved) {
            $global:LASTEXITCODE = $saved.Value
        } else {
            Microsoft.PowerShell.Utility\Remove-Variable -Name LASTEXITCODE -Scope Global -ErrorAction Ignore
        }
    }
}

# The prompt: theirs, called after ours, once per session even if init runs twice.
if (-not (Microsoft.PowerShell.Utility\Get-Variable -Name __autoenv_user_prompt -Scope Global -ErrorAction Ignore)) {
    $__autoenv_found = Microsoft.PowerShell.Management\Get-Item -LiteralPath Function:\prompt -ErrorAction Ignore
    $global:__autoenv_user_prompt = if ($__autoenv_found) { $__autoenv_found.ScriptBlock } else { $null }
    Microsoft.PowerShell.Utility\Remove-Variable -Name __autoenv_found -ErrorAction Ignore

    function global:prompt {
        $succeeded = $global:?
        __autoenv_hook
        if ($global:__autoenv_prompt_text -and
            -not [System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV_DISABLE_PROMPT')) {
            Microsoft.PowerShell.Utility\Write-Host -Object $global:__autoenv_prompt_text -NoNewline
        }
        # Give their prompt the $? it would have seen: $? is read-only, but a
        # failing command that records nothing sets it to $false.
        if (-not $succeeded) { Microsoft.PowerShell.Utility\Write-Error '' -ErrorAction Ignore }
        if ($global:__autoenv_user_prompt) {
            & $global:__autoenv_user_prompt
        } else {
            "PS $($ExecutionContext.SessionState.Path.CurrentLocation)$('>' * ($NestedPromptLevel + 1)) "
        }
    }
}

# At the cd itself where PowerShell has the hook (7.2+), so `cd proj; pytest`
# runs the project's pytest; chained after any action already there.
$__autoenv_invoke = $ExecutionContext.SessionState.InvokeCommand
if ($__autoenv_invoke.PSObject.Properties['LocationChangedAction'] -and
    -not (Microsoft.PowerShell.Utility\Get-Variable -Name __autoenv_location_hooked -Scope Global -ErrorAction Ignore)) {
    $__autoenv_invoke.LocationChangedAction = [System.Delegate]::Combine(
        $__autoenv_invoke.LocationChangedAction,
        [System.EventHandler[System.Management.Automation.LocationChangedEventArgs]] { __autoenv_hook })
    $global:__autoenv_location_hooked = $true
}
Microsoft.PowerShell.Utility\Remove-Variable -Name __autoenv_invoke -ErrorAction Ignore

# A session started inside a project gets its env before the first command.
__autoenv_hook
