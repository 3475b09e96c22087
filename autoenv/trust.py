"""Whether an env may be activated without asking (see the trust issue).

On the hot path: standard library only, stat calls only.
"""


def check(finding, environ):
    """Return None when ``finding.env`` may be activated, else a one-line reason."""
    return None
