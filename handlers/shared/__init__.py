"""What several features draw: the ticket card, money and dates, menus, editing in place, page keys."""
