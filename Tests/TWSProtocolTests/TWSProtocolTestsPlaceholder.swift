import Testing

@Test func TWSProtocolTestsBuilds() {}
