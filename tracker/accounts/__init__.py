"""Admin accounts: who may sign in, with which role, and how they prove it (password, two-factor)."""
