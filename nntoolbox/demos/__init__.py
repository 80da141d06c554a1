"""Runnable demos (the course's ``test_for_*.m`` scripts); shared plumbing in :mod:`.common`."""
