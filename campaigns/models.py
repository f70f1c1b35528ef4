"""The one-to-one marketing pipeline and event campaigns (built in a later issue)."""
