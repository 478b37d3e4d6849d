"""Judges: prompt templates (versioned), structured output, parsing and retries."""
