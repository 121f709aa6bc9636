"""ccfw: tools for voice-board firmware images and serial bootloaders (independent of ccboard)."""

__version__ = "0.1.0"
