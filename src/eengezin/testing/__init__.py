"""Test helpers for hosts and definition authors (hypothesis strategies and more)."""
