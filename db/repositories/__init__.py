"""Repositories: the only code that writes SQL. Grouped behind `Repo` (`repo.users`, `repo.tickets`, ...)."""
