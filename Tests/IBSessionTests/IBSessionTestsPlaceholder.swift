import Testing

@Test func IBSessionTestsBuilds() {}
