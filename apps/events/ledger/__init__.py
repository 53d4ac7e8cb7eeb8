"""The processed-event ledger, one per tenant schema (a tenant app)."""
