"""Admin commands: figures, outdated tickets, a ticket's file, moderation, bans; money (payouts, disputes,
refunds)."""
