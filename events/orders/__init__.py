"""Orders, from placement to closing: commands, facts, the pure decider and pricing."""
