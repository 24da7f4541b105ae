"""Chains: watching the payment methods' addresses on chain, market rates, and where a watcher stands.

Pure domain code (no Flask): backends ask a chain what a watched address received
(`esplora`, `blockbook`, `ethereum`, `monero`), `watcher` turns their answers into pending,
confirmed and taken-back-out donations through the ledger, `rates_sources` fetches market
rates, `jobs` lists the periodic work for the worker and `cli` the `tracker watch` commands.
"""
