"""Building reward specs from prompts alone (issue 5): classification so far."""
