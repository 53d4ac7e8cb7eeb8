"""The event backbone: typed events, the transactional outbox and its relay."""
