<#
.SYNOPSIS
    The autoenv behaviour matrix in a real PowerShell 7 (run by ./test.sh when pwsh is on PATH).

.DESCRIPTION
    Loads `autoenv init pwsh` the way a profile does, under Set-StrictMode -Version Latest,
    with user functions shadowing the cmdlets the snippet uses, then walks through the
    scenarios the fish and bash/zsh tests check.  A script has no interactive prompt, so
    "the next prompt" is a call of the `prompt` function, as the host would make.
    Exit status 0 when every check passed, 1 otherwise; each check prints PASS or FAIL.

.EXAMPLE
    pwsh -NoProfile -NonInteractive -File tests/pwsh/run.ps1 -Autoenv .venv/bin/autoenv
#>
param(
    [Parameter(Mandatory = $true)] [string] $Autoenv
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$script:failures = 0
$script:checks = 0

function Check([bool] $condition, [string] $what) {
    $script:checks++
    if ($condition) {
        Microsoft.PowerShell.Utility\Write-Host "PASS  $what"
    } else {
        $script:failures++
        Microsoft.PowerShell.Utility\Write-Host "FAIL  $what"
    }
}

function Same([object] $actual, [object] $expected, [string] $what) {
    $ok = ("$actual" -ceq "$expected")
    if (-not $ok) { $what = "$what`n      expected: $expected`n      actual:   $actual" }
    Check $ok $what
}

$Autoenv = (Microsoft.PowerShell.Management\Resolve-Path -LiteralPath $Autoenv).ProviderPath
$onWindows = [System.Runtime.InteropServices.RuntimeInformation]::IsOSPlatform(
    [System.Runtime.InteropServices.OSPlatform]::Windows)
$binName = if ($onWindows) { 'Scripts' } else { 'bin' }
$pythonName = if ($onWindows) { 'python.exe' } else { 'python' }
$python = Microsoft.PowerShell.Management\Join-Path (Microsoft.PowerShell.Management\Split-Path -Parent $Autoenv) $pythonName
$sep = [System.IO.Path]::PathSeparator

# A clean, private world: temporary HOME and XDG dirs, a plain PATH.
$root = Microsoft.PowerShell.Management\Join-Path ([System.IO.Path]::GetTempPath()) ("autoenv-pwsh-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
$null = Microsoft.PowerShell.Management\New-Item -ItemType Directory -Path $root
$root = (Microsoft.PowerShell.Management\Resolve-Path -LiteralPath $root).ProviderPath
foreach ($name in 'home', 'runtime') {
    $null = [System.IO.Directory]::CreateDirectory([System.IO.Path]::Combine($root, $name))
}
$env:HOME = Microsoft.PowerShell.Management\Join-Path $root 'home'
$env:XDG_RUNTIME_DIR = Microsoft.PowerShell.Management\Join-Path $root 'runtime'
$env:XDG_CACHE_HOME = Microsoft.PowerShell.Management\Join-Path $env:HOME '.cache'
$env:XDG_STATE_HOME = Microsoft.PowerShell.Management\Join-Path $env:HOME '.local/state'
$env:XDG_DATA_HOME = Microsoft.PowerShell.Management\Join-Path $env:HOME '.local/share'
$env:XDG_CONFIG_HOME = Microsoft.PowerShell.Management\Join-Path $env:HOME '.config'
foreach ($name in 'VIRTUAL_ENV', 'VIRTUAL_ENV_PROMPT', '_AUTOENV_ENV', 'VIRTUAL_ENV_DISABLE_PROMPT', 'PYTHONHOME') {
    [System.Environment]::SetEnvironmentVariable($name, $null)
}
if (-not $onWindows) { $env:PATH = '/usr/local/bin:/usr/bin:/bin' }
$basePath = $env:PATH

function New-Project([string] $path, [switch] $NoEnv) {
    $null = [System.IO.Directory]::CreateDirectory($path)
    [System.IO.File]::WriteAllText([System.IO.Path]::Combine($path, 'pyproject.toml'), '')
    if (-not $NoEnv) {
        & $python -m venv --without-pip ([System.IO.Path]::Combine($path, '.venv'))
        if ($LASTEXITCODE -ne 0) { throw "cannot make a venv in $path" }
    }
    return $path
}

function EnvOf([string] $project) { [System.IO.Path]::Combine($project, '.venv') }
function BinOf([string] $project) { [System.IO.Path]::Combine($project, '.venv', $binName) }
function PathEntries { return @($env:PATH -split [regex]::Escape([string]$sep)) }

# The next prompt, as the host runs it.  The prefix goes to the host, so it is
# read from the variable the wrapper prints.
function Next-Prompt {
    $script:promptOut = (prompt) -join ''
}

function Go([string] $path) {
    Microsoft.PowerShell.Management\Set-Location -LiteralPath $path
    Next-Prompt
}

function Assert-Active([string] $project, [string] $what, [string] $name) {
    if (-not $name) { $name = [System.IO.Path]::GetFileName($project) }
    Same $env:VIRTUAL_ENV (EnvOf $project) "$what`: VIRTUAL_ENV"
    Same $env:VIRTUAL_ENV_PROMPT $name "$what`: VIRTUAL_ENV_PROMPT"
    Same (PathEntries)[0] (BinOf $project) "$what`: the env's $binName first on PATH"
    $found = Microsoft.PowerShell.Core\Get-Command -Name python -CommandType Application -ErrorAction SilentlyContinue |
        Microsoft.PowerShell.Utility\Select-Object -First 1
    Same $(if ($found) { $found.Source } else { '' }) ([System.IO.Path]::Combine((BinOf $project), $pythonName)) "$what`: python resolves in the env"
    $prefix = & $pythonName -c 'import sys; print(sys.prefix)'
    Same $prefix (EnvOf $project) "$what`: sys.prefix"
    Same $global:__autoenv_prompt_text "($name) " "$what`: prompt prefix"
}

function Assert-Inactive([string] $what, [string] $path = $basePath) {
    Check ($null -eq [System.Environment]::GetEnvironmentVariable('VIRTUAL_ENV')) "$what`: VIRTUAL_ENV unset"
    Check ($null -eq [System.Environment]::GetEnvironmentVariable('_AUTOENV_ENV')) "$what`: _AUTOENV_ENV unset"
    Same $env:PATH $path "$what`: PATH exactly as before"
    Same $global:__autoenv_prompt_text '' "$what`: no prompt prefix"
}

try {
    # --- a user's session: their prompt, and functions shadowing cmdlets ---------
    function global:prompt { 'USER-PROMPT> ' }
    foreach ($shadowed in 'Get-Item', 'Get-Variable', 'Remove-Variable', 'Write-Host', 'Invoke-Expression', 'Set-Location') {
        Microsoft.PowerShell.Utility\Invoke-Expression "function global:$shadowed { throw 'shadowed $shadowed was called' }"
    }
    Microsoft.PowerShell.Management\Set-Location -LiteralPath $root

    $init = (& $Autoenv init pwsh | Microsoft.PowerShell.Utility\Out-String)
    Check ($LASTEXITCODE -eq 0) 'autoenv init pwsh succeeds'
    Microsoft.PowerShell.Utility\Invoke-Expression $init
    Microsoft.PowerShell.Utility\Invoke-Expression $init  # a profile loaded twice hooks once
    Next-Prompt
    Same $script:promptOut 'USER-PROMPT> ' "the user's prompt is kept and called"
    Check ($global:__autoenv_user_prompt.ToString() -notmatch '__autoenv_hook') 'init twice: the prompt is wrapped once'

    $proj = New-Project ([System.IO.Path]::Combine($root, 'proj'))
    $other = New-Project ([System.IO.Path]::Combine($root, 'other'))

    # --- activate, subdirectory, leave --------------------------------------------
    Go $proj
    Assert-Active $proj 'activate'
    $sub = [System.IO.Path]::Combine($proj, 'src', 'pkg')
    $null = [System.IO.Directory]::CreateDirectory($sub)
    Go $sub
    Assert-Active $proj 'subdirectory'
    Same $env:PATH ((BinOf $proj) + $sep + $basePath) 'subdirectory: PATH has the env once'
    Go $root
    Assert-Inactive 'leave'

    # --- the switch happens at the cd itself where LocationChangedAction exists ----
    if ($ExecutionContext.SessionState.InvokeCommand.PSObject.Properties['LocationChangedAction']) {
        Microsoft.PowerShell.Management\Set-Location -LiteralPath $proj
        Same $env:VIRTUAL_ENV (EnvOf $proj) 'LocationChangedAction: active right after Set-Location, before any prompt'
        Go $root
    } else {
        Microsoft.PowerShell.Utility\Write-Host 'SKIP  LocationChangedAction (PowerShell before 7.2): switched at the prompt only'
    }

    # --- user PATH edits kept -----------------------------------------------------
    Go $proj
    $env:PATH = '/mine/first' + $sep + $env:PATH + $sep + '/mine/last'
    Next-Prompt
    Go $root
    Same $env:PATH ('/mine/first' + $sep + $basePath + $sep + '/mine/last') 'leave: PATH edits made inside are kept in place'
    $env:PATH = $basePath
    Next-Prompt

    # --- switch, nested ------------------------------------------------------------
    Go $proj
    Go $other
    Assert-Active $other 'switch A to B'
    Same $env:PATH ((BinOf $other) + $sep + $basePath) 'switch: only B on PATH'
    $inner = New-Project ([System.IO.Path]::Combine($proj, 'inner'))
    Go $inner
    Assert-Active $inner 'nested: the innermost env'
    Go $proj
    Assert-Active $proj 'nested: back to the outer env'
    Go $root

    # --- marker, disable / enable at the next prompt ----------------------------------
    $off = New-Project ([System.IO.Path]::Combine($root, 'off'))
    [System.IO.File]::WriteAllText([System.IO.Path]::Combine($off, '.autoenv-disable'), '')
    Go $off
    Assert-Inactive 'a directory with .autoenv-disable'
    Go $proj
    & $Autoenv disable | Microsoft.PowerShell.Core\Out-Null
    Next-Prompt
    Assert-Inactive 'autoenv disable: off at the next prompt'
    & $Autoenv enable | Microsoft.PowerShell.Core\Out-Null
    Next-Prompt
    Assert-Active $proj 'autoenv enable: on at the next prompt'

    # --- manual activation is left alone ---------------------------------------------
    # The venv's own Activate.ps1 calls cmdlets by their short names: no shadows
    # and no strict mode for it.
    foreach ($shadowed in 'Get-Item', 'Get-Variable', 'Remove-Variable', 'Write-Host', 'Invoke-Expression', 'Set-Location') {
        Microsoft.PowerShell.Management\Remove-Item -LiteralPath "Function:\$shadowed"
    }
    $mine = [System.IO.Path]::Combine($root, 'mine')
    & $python -m venv --without-pip $mine
    & { Set-StrictMode -Off; . ([System.IO.Path]::Combine($mine, $binName, 'Activate.ps1')) }
    Next-Prompt
    Go $other
    Same $env:VIRTUAL_ENV $mine 'manual activation: left alone across prompts and cds'
    Same $global:__autoenv_prompt_text '' 'manual activation: no autoenv prefix'
    & { Set-StrictMode -Off; deactivate }
    Next-Prompt
    Assert-Active $other 'after deactivate: autoenv takes over at the next prompt'
    Go $root

    # --- VIRTUAL_ENV_DISABLE_PROMPT ---------------------------------------------------
    $env:VIRTUAL_ENV_DISABLE_PROMPT = '1'
    Go $proj
    Same $env:VIRTUAL_ENV (EnvOf $proj) 'VIRTUAL_ENV_DISABLE_PROMPT: env still active'
    Go $root
    [System.Environment]::SetEnvironmentVariable('VIRTUAL_ENV_DISABLE_PROMPT', $null)

    # --- $LASTEXITCODE kept for the user's prompt --------------------------------------
    & $python -c 'raise SystemExit(3)'
    Go $proj
    Same $LASTEXITCODE 3 '$LASTEXITCODE kept across the hook'
    Go $root

    # --- hostile names -------------------------------------------------------------------
    $hostile = "it's ‘typo’ ‚low‛ `$(ni pwned) ;& @{x} [a] `$env:HOME é🚒"
    if (-not $onWindows) { $hostile += ' "dq" `bt` \back' }
    $evil = New-Project ([System.IO.Path]::Combine($root, $hostile))
    Go $evil
    Assert-Active $evil 'hostile directory name' $hostile
    Go $root
    Assert-Inactive 'hostile directory name: leave'
    Check (-not ([System.IO.File]::Exists([System.IO.Path]::Combine($root, 'pwned')) -or
                 [System.IO.File]::Exists([System.IO.Path]::Combine($evil, 'pwned')))) 'hostile directory name: nothing ran'

    # --- the helper missing: said once, the shell keeps working ---------------------------
    $errors = [System.IO.StringWriter]::new()
    $stderr = [System.Console]::Error
    [System.Console]::SetError($errors)
    try {
        $global:__autoenv_helper = [System.IO.Path]::Combine($root, 'gone', '_run_hook.py')
        Go $proj
        Go $root
        Go $other
        Go $proj
    } finally {
        [System.Console]::SetError($stderr)
    }
    $said = ([regex]::Matches($errors.ToString(), 'autoenv: cannot run')).Count
    Same $said 1 'helper missing: said once'
    Same $script:promptOut 'USER-PROMPT> ' 'helper missing: the prompt still works'
} catch {
    $script:failures++
    Microsoft.PowerShell.Utility\Write-Host "FAIL  unexpected error: $_`n$($_.ScriptStackTrace)"
} finally {
    Microsoft.PowerShell.Management\Set-Location -LiteralPath ([System.IO.Path]::GetTempPath())
    Microsoft.PowerShell.Management\Remove-Item -LiteralPath $root -Recurse -Force -ErrorAction SilentlyContinue
}

Microsoft.PowerShell.Utility\Write-Host "$($script:checks) checks, $($script:failures) failed"
if ($script:failures -gt 0) { exit 1 }
exit 0
