"""What the processes of one token share besides the rate-limit budget: which Slack
deliveries already ran (:mod:`.seen`, on Redis or the database) and which cached lists
changed (:mod:`.news`, Redis pub/sub).

Nothing is imported here, so a process without ``REDIS_URL`` never imports redis.
"""
