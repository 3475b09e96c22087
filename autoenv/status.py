"""``autoenv status``: what autoenv sees in a directory, and why."""

import os

from autoenv import detect, hook


def describe(directory, environ):
    finding = hook.decide(detect.scan(directory), environ, may_create=False)
    lines = ["directory:  %s" % directory]
    lines.append("project:    %s" % (finding.root or "none (no pyproject.toml, setup.py, setup.cfg, "
                                                  "requirements.txt, Pipfile or env dir here or above)"))
    if finding.disabled_by:
        lines.append("env:        not activated: disabled by %s" % finding.disabled_by)
    elif finding.env:
        lines.append("env:        %s (%s)" % (finding.env, finding.source))
        lines.append("why:        %s" % why_picked(finding))
    elif finding.root:
        lines.append("env:        none found for %s" % finding.root)
    else:
        lines.append("env:        none")
    active = environ.get("VIRTUAL_ENV") or ""
    owned = environ.get(hook.OWNED_VAR) or ""
    if not active:
        state = "no env is active in this shell"
    elif active != owned:
        state = "%s, activated by hand; autoenv leaves it alone until you deactivate it" % active
    elif finding.env and os.path.realpath(active) == os.path.realpath(finding.env):
        state = "yes, by autoenv"
    else:
        state = "%s, by autoenv (your shell switches at its next prompt)" % active
    lines.append("active:     %s" % state)
    if finding.foreign:
        lines.append(foreign_line(finding.foreign, environ))
    lines.extend(finding.problems)
    return "\n".join(lines)


def why_picked(finding):
    """Which tool's env this is and what pointed at it (README "Envs other tools made")."""
    from autoenv.trust import printable

    if finding.why:
        return printable(finding.why)
    if finding.source == "in-project":
        return ("%s is the project's own env dir (an in-project env comes before any tool's)"
                % printable(finding.env))
    return printable(finding.source or "")


def foreign_line(foreign, environ):
    """An env that belongs to the project but that autoenv leaves to its tool."""
    tool, env, command = foreign
    if os.path.realpath(environ.get("CONDA_PREFIX") or "/nonexistent") == os.path.realpath(env):
        state = "active (CONDA_PREFIX)"
    else:
        state = "not active; autoenv does not activate %s envs: run: %s" % (tool, command)
    return "%s:%s%s, %s" % (tool, " " * max(1, 11 - len(tool)), env, state)
