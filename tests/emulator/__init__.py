"""Local amoCRM API v4 emulator for the sync tests and the sync benchmark."""

from .data import make_records
from .server import FAULT_KINDS, Emulator, Options, problem

__all__ = ["FAULT_KINDS", "Emulator", "Options", "make_records", "problem"]
