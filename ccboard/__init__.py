"""ccboard: voice-board driver and media engine for telephony servers."""

__version__ = "0.1.0"
