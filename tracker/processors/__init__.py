"""Payment processors' inbound webhooks: signature checks, event mapping and the inbox."""
