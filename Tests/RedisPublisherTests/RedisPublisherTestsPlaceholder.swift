import Testing

@Test func RedisPublisherTestsBuilds() {}
