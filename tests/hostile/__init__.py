"""Hostile input: generated messages, taps and files pushed through the real Dispatcher."""
