"""The ccfw exception tree: one root, one class per defect; messages name the file, line,
field, port or protocol step."""

from __future__ import annotations


class FirmwareError(Exception):
    """Root of every error ccfw raises on purpose."""
