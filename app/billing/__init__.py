"""Billing's two directions. From billing: `directory` imports its directory (counterparties,
contracts, points, meters, accepted history). To billing: `refresh` hands transmitted readings
over through an `adapter` and records billing's answer."""
