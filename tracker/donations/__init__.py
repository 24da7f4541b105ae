"""The ledger: recording, confirming, refunding and correcting gifts; rates; import and export; reports."""
