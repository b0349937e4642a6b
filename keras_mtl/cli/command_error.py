"""The error a command raises for problems outside the config file."""


class CommandError(Exception):
    """A command cannot run: a missing file, package or model part.

    `keras-mtl` prints the message (which says what was received and what is
    expected) and exits with status 1.
    """
