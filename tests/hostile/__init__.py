"""Hostile-input regression corpus (issue 14): generated inputs, expected outcomes, a runner."""
