"""Create the project's env on first entry (see the creation issue).

Imported on the hot path only when a project has no env.
"""


def maybe_create(finding, environ, err):
    """Create an env for ``finding.root`` when policy allows; return its path or None."""
    return None
