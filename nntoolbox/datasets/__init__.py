"""Data sets used by the course demos: the KRK chess endgame and MNIST."""
