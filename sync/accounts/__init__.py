"""Who is asking and what they may see: users, passwords and tokens, scope, login limits.

* ``auth`` — argon2 passwords, device-bound opaque tokens, revocation;
* ``users`` — branches and users created and changed by admins;
* ``principal`` — the caller of one request; ``scope`` — the one place each visibility rule lives;
* ``ratelimit`` — login attempts counted in the database, so every instance sees the same limits.
"""
