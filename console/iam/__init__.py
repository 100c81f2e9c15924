"""Identity and access: users, sessions, passwords (grows into full IAM)."""
