"""Data sets used by the course demos: the KRK chess endgame and MNIST; the chapter's double moon and XOR."""
from .moons import double_moon, xor_data
from .split import Split

__all__ = ["Split", "double_moon", "xor_data"]
