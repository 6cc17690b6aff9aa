"""End-to-end tests: the real bot over HTTP against the sandbox emulator."""
