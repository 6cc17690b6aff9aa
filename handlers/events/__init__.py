"""Event pages: every ticket on sale for one event, by price, with its seat; and the event's waiting list."""
