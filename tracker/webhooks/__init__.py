"""Outgoing webhooks: endpoints the publisher registers, signed deliveries with retries."""
