"""Signed webhooks: each tenant's endpoints get its events, produced from the outbox."""
