"""/help and /cancel in any state, and the last router for whatever nothing else understood."""
