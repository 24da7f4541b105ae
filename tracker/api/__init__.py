"""The versioned JSON API (campaigns with their progress) and its OpenAPI description."""
