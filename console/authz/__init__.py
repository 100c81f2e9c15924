"""Authorisation: the permission catalogue, the Casbin enforcer and the guard every service calls.

A denial is recorded in the audit trail; policy changes bump a version every process follows.
"""
