"""The one exception type users see: its message is a complete, one-line explanation.

The CLI prints it as `error: <message>` and exits non-zero, so bad input never ends in a traceback.
"""


class CifarEdgeError(Exception):
    """A problem with the user's input or environment, explained in one line."""
