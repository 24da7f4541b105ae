"""Readers' pages: the support page, campaign pages and QR images of payment addresses."""
