// swift-tools-version: 6.2
import PackageDescription

// The layout mirrors the architecture; dependencies point one way:
//
//   Essentials (backoff, SplitMix64, JSON string escaping, redaction; used by every layer below)
//   TWSProtocol (pure wire codec) <- IBSession (NIO connection, state machine) --.
//   MarketModel (records, keys, number format) <- MarketData (pure tick merge,  |
//       option window, line budget)                                              |
//   MarketModel <- RedisPublisher (hiredis + Lua)                                |-> Relay -> quote-relay
//   MarketModel <- AlphaVantage (libcurl client, rate limiter)                   |
//   Failover (pure decision logic) -----------------------------------------------'
//   TWSProtocol <- Simulators (IB Gateway + Alpha Vantage simulators) -> quote-relay-sim
//
// C libraries appear only inside their wrapper modules (CHiredis in RedisPublisher,
// CCurl in AlphaVantage).

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "quote-relay",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quote-relay", targets: ["quote-relay"]),
        .executable(name: "quote-relay-sim", targets: ["quote-relay-sim"]),
        .executable(name: "bench-e2e", targets: ["bench-e2e"]),
        .executable(name: "bench-replay", targets: ["bench-replay"]),
        .executable(name: "bench-stages", targets: ["bench-stages"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        // Already in the graph through swift-configuration's YAML trait; Relay reads the
        // `symbols` list of maps with it directly (see Sources/Relay/Config/YAMLConfigFile.swift).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // TLS to Redis (Debian 12's hiredis 0.14.1 has none): RedisPublisher carries RESP over
        // NIO + NIOSSL when the URL is rediss://.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MARK: C libraries, each confined to one wrapper module
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),

        // MARK: Pure layers (no I/O)
        // The bottom: one backoff, one seeded generator, one JSON string escaper, one redaction
        // helper, shared by every module that needs them (no dependencies of its own).
        .target(name: "Essentials", swiftSettings: swiftSettings),
        .target(name: "TWSProtocol", swiftSettings: swiftSettings),
        .target(name: "MarketModel", dependencies: ["Essentials"], swiftSettings: swiftSettings),
        .target(name: "MarketData", dependencies: ["MarketModel", "TWSProtocol"], swiftSettings: swiftSettings),
        .target(name: "Failover", dependencies: ["Essentials", "MarketModel"], swiftSettings: swiftSettings),

        // MARK: I/O layers
        .target(
            name: "IBSession",
            dependencies: [
                "Essentials", "TWSProtocol",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RedisPublisher",
            dependencies: [
                "CHiredis", "Essentials", "MarketModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AlphaVantage",
            dependencies: [
                "CCurl", "Essentials", "MarketModel",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Simulators",
            dependencies: [
                "Essentials", "TWSProtocol",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The worker
        .target(
            name: "Relay",
            dependencies: [
                "Essentials", "IBSession", "MarketData", "MarketModel", "RedisPublisher", "AlphaVantage", "Failover",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Executables
        .executableTarget(
            name: "quote-relay",
            dependencies: [
                "Relay", "RedisPublisher",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "quote-relay-sim",
            dependencies: [
                "Simulators",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (release builds only; run with benchmarks/redis/run.sh)
        .executableTarget(
            name: "bench-publisher",
            dependencies: [
                "RedisPublisher", "MarketModel",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/redis/Sources",
            swiftSettings: swiftSettings
        ),

        // MARK: The end-to-end benchmark (benchmarks/e2e/run.sh): the IB simulator in-process,
        // a pub/sub subscriber on the same clock, the worker and the peer as child processes.
        .target(
            name: "BenchE2E",
            dependencies: [
                "Simulators", "TWSProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "benchmarks/e2e/Sources/BenchE2E",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bench-e2e",
            dependencies: [
                "BenchE2E",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/e2e/Sources/bench-e2e",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchE2ETests",
            dependencies: ["BenchE2E", "Simulators", "TWSProtocol"],
            path: "benchmarks/e2e/Tests/BenchE2ETests",
            swiftSettings: swiftSettings
        ),

        // MARK: The replayed-flood benchmark (benchmarks/replay/run.sh, issue 15): the simulator
        // answers the handshake and requests, then a pre-encoded tick flood is written as fast
        // as the target reads it.
        .target(
            name: "BenchReplay",
            dependencies: [
                "BenchE2E", "Simulators", "TWSProtocol", "MarketModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "benchmarks/replay/Sources/BenchReplay",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bench-replay",
            dependencies: [
                "BenchReplay", "BenchE2E",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/replay/Sources/bench-replay",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bench-stages",
            dependencies: ["BenchReplay", "IBSession", "MarketData", "MarketModel", "RedisPublisher", "Relay", "TWSProtocol"],
            path: "benchmarks/replay/Sources/bench-stages",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchReplayTests",
            dependencies: ["BenchReplay", "TWSProtocol", "MarketData", "MarketModel"],
            path: "benchmarks/replay/Tests/BenchReplayTests",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests (unit suites need no server; the others read QR_TEST_REDIS_URL)
        .testTarget(name: "EssentialsTests", dependencies: ["Essentials"], swiftSettings: swiftSettings),
        .testTarget(name: "TWSProtocolTests", dependencies: ["TWSProtocol", "Essentials"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "MarketModelTests", dependencies: ["MarketModel"], swiftSettings: swiftSettings),
        .testTarget(name: "MarketDataTests", dependencies: ["MarketData", "Essentials"], swiftSettings: swiftSettings),
        .testTarget(name: "FailoverTests", dependencies: ["Failover"], swiftSettings: swiftSettings),
        .testTarget(name: "IBSessionTests", dependencies: ["IBSession", "Essentials", "Simulators", .product(name: "NIOEmbedded", package: "swift-nio")], swiftSettings: swiftSettings),
        // Test support shared by the suites that start their own servers (not a test target).
        .target(name: "QRTestSupport", dependencies: ["RedisPublisher"], path: "Tests/QRTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "RedisPublisherTests", dependencies: ["RedisPublisher", "QRTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AlphaVantageTests", dependencies: ["AlphaVantage", "Essentials", "Simulators"], swiftSettings: swiftSettings),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulators", "Essentials", "TWSProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "RelayTests", dependencies: ["Relay", "Essentials", "Simulators", "QRTestSupport", .product(name: "NIOEmbedded", package: "swift-nio")], swiftSettings: swiftSettings),
    ]
)

// MARK: Fuzz target for the configuration loader (only with QR_FUZZ=1, so ordinary builds never
// see a target without `main`): fuzz/build-config.sh builds it in .build-fuzz with
// `--sanitize fuzzer --sanitize address`, where libFuzzer provides `main`.
if Context.environment["QR_FUZZ"] == "1" {
    package.targets.append(
        .executableTarget(
            name: "config-fuzz",
            dependencies: ["Relay"],
            path: "fuzz/config",
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        )
    )
}
