import Metrics
import Prometheus

extension RelayMetrics {
    /// Buckets for Redis write latency: a loopback write takes tens of microseconds, a write
    /// behind a congested link tens of milliseconds; beyond a second something is broken.
    public static let redisLatencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
    ]

    /// A Prometheus-backed swift-metrics factory writing into `registry`.
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Name.redisWriteLatency] = redisLatencyBuckets
        return factory
    }

    /// Makes the process-wide registry the swift-metrics backend and returns it for `/metrics`.
    /// Call once per process, before any metric is made.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(makeFactory(registry: registry))
        return registry
    }
}
