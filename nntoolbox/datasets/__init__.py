"""Data sets used by the course demos: the KRK chess endgame and MNIST; the chapter's double moon and XOR."""
from .moons import double_moon, xor_data

__all__ = ["double_moon", "xor_data"]
