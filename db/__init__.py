"""Storage: the models, the engine, the repositories (only services use them) and the FSM storage."""
