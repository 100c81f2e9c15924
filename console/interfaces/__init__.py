"""Interfaces: API keys for inbound systems (grows into the interface registry and channels)."""
