"""The anonymous chat between a buyer and a ticket's seller, relayed by the bot."""
