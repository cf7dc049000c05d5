extension IBGatewaySimulator {
    /// Everything that shapes a simulated gateway. The defaults make a gateway that behaves
    /// like a healthy paper-trading IB Gateway with US equity and option permissions.
    public struct Configuration: Sendable {
        /// Seeds every price walk, base price and volatility. Same seed, same market.
        public var seed: UInt64 = 1
        /// Underlyings in the catalog; well-known symbols get their real conIds and realistic
        /// base prices, others synthetic ones. Each gets an option chain.
        public var symbols: [String] = ["AAPL", "MSFT", "SPY", "QQQ", "NVDA", "AMZN", "TSLA", "IWM"]
        /// The highest server version negotiated (min(client max, this)). 176 by default, as
        /// in captured gateway sessions; must stay below 201, where protobuf framing starts.
        public var maxServerVersion: Int = 176
        /// Market updates per second across all subscribed instruments (one update = one
        /// instrument's new state; it can produce several tick messages per subscriber).
        public var ticksPerSecond: Double = 20
        /// Concurrent streaming subscriptions allowed (IB's market data lines, counted over
        /// all client connections like an account's lines); one more gets error 101.
        public var marketDataLines: Int = 100
        /// Messages per second a client may send; more get error 100 (IB: ~50).
        public var pacingLimit: Int = 50
        /// Whether the market is always open (tests) or follows US equity hours.
        public var tradingHours: TradingHoursMode = .alwaysOpen
        /// The simulator's "today" (expirations, hours strings, time to expiry); nil means
        /// the Eastern date when the simulator starts.
        public var today: SimDate?
        /// Accounts in MANAGED_ACCTS.
        public var accounts: [String] = ["DU1234567"]
        /// Per (client, reqId, tick type), how many sent values are kept for `sentTicks`;
        /// the oldest are dropped beyond it. 0 disables recording. Long-running processes
        /// should keep this small: every subscription records about 20 tick types.
        public var recordLimit: Int = 1000
        /// Strikes on each side of the at-the-money strike in every chain.
        public var strikesEachSide: Int = 20
        /// Weekly (Friday) expirations, then monthly (third-Friday) ones after them.
        public var weeklyExpirations: Int = 4
        public var monthlyExpirations: Int = 3
        /// Annual risk-free rate used for option values.
        public var riskFreeRate: Double = 0.045
        /// Control commands applied before the first client connects (`stall`, `rate 5`, ...).
        public var initialCommands: [String] = []
        /// Benchmark mode (benchmarks/e2e, BenchmarkStamps.swift): stock volumes carry sequence
        /// numbers and their send times are recorded here. nil (the default) turns it off.
        public var benchmarkStamps: BenchmarkStamps?
        /// Wall clock, Unix milliseconds; injectable so that engine tests never sleep.
        public var clock: @Sendable () -> Int64 = {
            Int64((Date().timeIntervalSince1970 * 1000).rounded())
        }

        public init() {}
    }
}

import Foundation
