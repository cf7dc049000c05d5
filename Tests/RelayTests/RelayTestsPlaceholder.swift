import Testing

@Test func RelayTestsBuilds() {}
