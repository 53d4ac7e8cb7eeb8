# The fake card gateway and committed payments, as the payments' own tests have them.
from tests.commerce.test_payments import gateway, paying  # noqa: F401
