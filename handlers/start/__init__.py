"""Registration: /start and the phone contact."""
