"""Handler tests through Dispatcher.feed_update, with no HTTP."""
