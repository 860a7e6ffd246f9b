"""Unit tests of the repository itself: code size, dependency locks, the test helpers."""
