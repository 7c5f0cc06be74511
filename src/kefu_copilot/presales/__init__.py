"""The pre-sales advisor (导购): recommend, compare, answer price objections and suggest
complements from the shop's own typed catalogue."""
