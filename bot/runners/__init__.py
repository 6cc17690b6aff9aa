"""How updates come in: long polling (`polling`) or a webhook server (`webhook`), both on `updates.UpdatePool`."""
