"""The bot's entry point and wiring: settings, rules, i18n, middlewares, runners, scheduler, workers."""
