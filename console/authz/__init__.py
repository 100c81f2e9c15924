"""Authorisation: the permission catalogue, Casbin enforcer and the guard every service calls."""
