"""One router per resource: seat events, seat balances, billing."""
