// RedisPublisher
