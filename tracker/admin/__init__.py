"""The back office's shell: its blueprint, the dashboard and the audit log.

Each area of the back office (accounts, campaigns, donations, payments) keeps its pages in
its own package and adds them to this blueprint; `tracker.create_app` imports them all.
"""
