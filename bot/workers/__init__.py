"""Long-running workers of the bot process: the outbox sender."""
