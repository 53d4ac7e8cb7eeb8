"""The tenancy's PostgreSQL advisory-lock keys, side by side so that no two of them meet.

Each is one bigint key in the database's single advisory-lock space: two locks that share a
key would refuse or wait on each other (a spare refill would stop a migration run)."""

# The template schema: rebuilt under the exclusive lock, copied under the shared one.
TEMPLATE = 0x7E_4A_9C_31_0D_5B_20_16
# One ``migrate_tenants`` run at a time (a session lock on a connection of the run's own).
MIGRATE_RUN = 0x7E_4A_9C_31_0D_5B_20_17
# One refill of the spare schemas at a time.
SPARE_REFILL = 0x7E_4A_9C_31_0D_5B_20_18

KEYS = (TEMPLATE, MIGRATE_RUN, SPARE_REFILL)
