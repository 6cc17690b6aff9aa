"""A Bot API emulator over HTTP for the end-to-end tests and the playground."""
