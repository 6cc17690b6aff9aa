"""Business rules. Nothing here imports aiogram."""
