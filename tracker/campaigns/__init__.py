"""Campaigns (goals): their rules, their progress, and the back-office pages that manage them."""
