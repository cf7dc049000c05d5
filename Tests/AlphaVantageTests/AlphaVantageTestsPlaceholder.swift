import Testing

@Test func AlphaVantageTestsBuilds() {}
