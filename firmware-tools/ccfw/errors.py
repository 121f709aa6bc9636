"""The ccfw exception tree: one root, one class per defect; messages name the file, line,
field, port or protocol step."""

from __future__ import annotations


class FirmwareError(Exception):
    """Root of every error ccfw raises on purpose."""


# --- serial bootloaders: xmodem.py, stm32.py, simboard.py, flash.py ---


class LinkError(FirmwareError):
    """A serial-link or bootloader-protocol failure; names the port (when known) and the step."""

    def __init__(self, message: str, *, port: str | None = None, step: str | None = None) -> None:
        self.message = message
        self.port = port
        self.step = step
        where = ", ".join(x for x in (f"port {port}" if port else "", f"step {step}" if step else "") if x)
        super().__init__(f"{where}: {message}" if where else message)

    def at(self, port: str) -> LinkError:
        """The same error with the port filled in (the sans-IO cores do not know it)."""
        return type(self)(self.message, port=port, step=self.step)


class PortMissingError(LinkError):
    """The serial port does not exist or cannot be opened."""


class PortBusyError(LinkError):
    """Another process holds the serial port."""


class NoAnswerError(LinkError):
    """The bootloader never answered; the message says what was sent."""


class NakStormError(LinkError):
    """The peer refused the same block or command too many times in a row."""


class TransferCancelledError(LinkError):
    """The peer cancelled the transfer (XMODEM CAN CAN)."""


class ProtocolViolationError(LinkError):
    """The peer sent bytes the protocol does not allow at this step."""


class Stm32NackError(LinkError):
    """The STM32 bootloader answered NACK (0x1F) to a command or one of its frames."""


class VerifyError(LinkError):
    """Read-back after writing differs from the image."""


class WrongBoardError(LinkError):
    """The image is for another board or hardware revision, or the board refused it."""
