"""Identity and access: accounts, sign-in, sessions, passwords, and the pages that manage them.

Users, organisations, roles, the security policy, the login log, personal access tokens and
the 一体化平台 user sync; the 租户管理 page too, over the tenancy foundation.
"""
