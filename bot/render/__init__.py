"""Presentation: turning core results into text and charts for the console, CLI and Discord."""
