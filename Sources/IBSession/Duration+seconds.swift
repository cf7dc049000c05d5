extension Duration {
    /// The duration in seconds as a Double (attosecond precision is not needed for timers).
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
