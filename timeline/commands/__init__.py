"""Command groups kept apart from the core CLI; each module lists its COMMANDS."""
