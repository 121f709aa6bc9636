"""The ccboard exception tree: one root, one subtree per layer.

Messages name what was wrong: the argument, file, line, field, channel, state or event.
"""

from __future__ import annotations


class CCBoardError(Exception):
    """Root of every error ccboard raises on purpose."""


class DSPError(CCBoardError):
    """A native DSP kernel refused an operation; keeps the native cc_err code."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.code = code


class DSPArgumentError(DSPError, ValueError):
    """A buffer or parameter handed to a DSP kernel is not acceptable (names the argument)."""


class DSPTypeError(DSPError, TypeError):
    """A buffer handed to a DSP kernel has the wrong dtype or is not a numpy array."""


class BoardError(CCBoardError):
    """A board, span or channel operation failed; the message names the span or channel."""


class ConfigError(BoardError):
    """A configuration file (system.conf, a sim description) is wrong: names file, line and key."""

    def __init__(self, message: str, path: str = "", line: int = 0, key: str = "") -> None:
        where = ":".join(p for p in (path, str(line) if line else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.path = path
        self.line = line
        self.key = key


class DeviceError(BoardError):
    """A device call failed (an ioctl, a read): keeps errno and names the channel and the operation."""

    def __init__(self, message: str, errno: int = 0, channel: int = 0, op: str = "") -> None:
        super().__init__(message)
        self.errno = errno
        self.channel = channel
        self.op = op


class StoreError(CCBoardError):
    """A store (ledger, CDR, callback, campaign, outbox) operation failed.

    The message names the backend, the table, the row key and the operation.
    """

    def __init__(self, message: str, table: str = "", key: str = "", op: str = "") -> None:
        where = " ".join(p for p in (op, table, f"[{key}]" if key else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.table = table
        self.key = key
        self.op = op


class StoreURLError(StoreError, ValueError):
    """A store URL is not sqlite:///path or postgresql://...; names the URL part that is wrong."""


class StoreSchemaError(StoreError):
    """The database schema is newer than this code, or a migration failed (names the version)."""


class StoreConflictError(StoreError):
    """A row changed under us: a claim expired or was taken by another worker (names the row)."""


class StoreNotFoundError(StoreError, KeyError):
    """No row with that key (names the table and the key)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SmsGatewayError(StoreError):
    """The SMS gateway refused or failed a message; keeps the gateway's status code.

    permanent: retrying cannot help (e.g. an invalid destination number).
    """

    def __init__(self, message: str, status: int = 0, key: str = "", permanent: bool = False) -> None:
        super().__init__(message, table="sms_outbox", key=key, op="send")
        self.status = status
        self.permanent = permanent


class ProtocolError(CCBoardError):
    """A signalling machine refused an input: names the channel, the state and the event."""

    def __init__(self, message: str, channel: int | str = "", state: str = "", event: str = "") -> None:
        super().__init__(f"channel {channel}: {message} (state {state}, event {event})")
        self.channel = channel
        self.state = state
        self.event = event


class LocalProtocolError(ProtocolError):
    """We asked a machine for something its state does not allow (answer before an offer, ...)."""


class RemoteProtocolError(ProtocolError):
    """The far end broke the protocol; machines turn this into a release and report it, they do
    not raise it from handle()."""
