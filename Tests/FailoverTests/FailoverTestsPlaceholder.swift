import Testing

@Test func FailoverTestsBuilds() {}
