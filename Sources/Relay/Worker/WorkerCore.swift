import AlphaVantage
import Failover
import IBSession
import Logging
import MarketData
import MarketModel
import RedisPublisher

/// The worker's state, as the status hash's `state` field, the `state` event's `from`/`to`
/// and the `quote_relay_worker_state{state}` gauge name it (CONTRACT §3: `starting connecting
/// connected degraded failover stopping stopped`; the raw values must not change).
public enum WorkerState: String, Sendable, Hashable, CaseIterable {
    /// Started, not yet trying to reach the gateway.
    case starting
    /// Trying to reach (or reconnecting to) IB Gateway.
    case connecting
    /// The IB session is up and every served instrument is IB's.
    case connected
    /// Up, but something is wrong: the session is degraded (1100, farms down), Redis refuses
    /// writes, or IB cannot serve an instrument that has no fallback.
    case degraded
    /// At least one instrument is served by Alpha Vantage.
    case failover
    /// Graceful shutdown began.
    case stopping
    /// Shut down cleanly (the last status written).
    case stopped
}

/// The worker's decisions as a value: events in, actions out (like `SessionStateMachine` and
/// `FailoverEngine`, which it drives).
///
/// It holds what the decisions need: the worker's state, the failover engine and the
/// bookkeeping around it (which symbols Alpha Vantage serves and since when, which have no
/// fallback and why), whether Redis refuses writes, the keep-alive snapshots in flight, when
/// data was last written (readiness), the market-hours state per symbol, and the role in a
/// worker group. It never reads a clock: every event comes with `Now` (wall ms for market
/// hours and what readers see, monotonic ms for every duration). The `Worker` actor feeds it
/// and performs the returned `Action`s in order.
struct WorkerCore: Sendable {
    /// The facts the core needs from the configuration.
    struct Settings: Sendable {
        /// `worker.id`: every event names it.
        var workerID: String
        /// The failover engine's thresholds.
        var policy: FailoverPolicy
        /// `failover.staleness_seconds` in ms: data older than this is not flowing (readiness).
        var stalenessMs: Int64
        /// An Alpha Vantage key is configured: symbols with a fallback can fail over.
        var hasAlphaVantage: Bool
        /// Most keep-alive snapshots in flight at once: they share the gateway's request
        /// pacing with subscriptions and probes.
        var maxKeepAliveSnapshots = 8
    }

    /// When an event happened, on the two clocks, and the IB session's state as last seen.
    struct Now: Sendable {
        /// Wall clock, epoch ms (market hours, `ts_ms` of events).
        var wallMs: Int64
        /// Monotonic ms (durations: staleness, failover since, keep-alive).
        var monoMs: Int64
        /// The session's state now; nil keeps the one last seen (the hot path does not ask).
        var session: SessionState?
    }

    /// A line the keep-alive may confirm with a snapshot (see `Event.tick`).
    struct QuietLine: Sendable, Hashable {
        var id: SubscriptionID
        /// The key symbol of the instrument the line belongs to.
        var symbol: String
        /// When the line was last confirmed (subscribed, written from IB, or asked), monotonic ms.
        var lastConfirmedMs: Int64
        /// A third of the line's key TTL, ms: quieter than this, it is asked for a snapshot.
        var quietLimitMs: Int64
    }

    /// What happened.
    enum Event: Sendable {
        /// `run()` began: the session is connecting to `gateway` (`host:port`).
        case started(gateway: String)
        /// The session is ready (NEXT_VALID_ID).
        case sessionConnected(serverVersion: Int, clientId: Int32)
        /// The session's state changed; `reconnectAttempts` is its consecutive failure count.
        case sessionStateChanged(from: SessionState, to: SessionState, reason: String, reconnectAttempts: Int)
        /// An ERR_MSG (4), with the served symbol its request belongs to, if any.
        case ibError(code: Int32, message: String, reqId: Int32, symbol: String?)
        /// IB delivered values for these symbols' quote lines (the hot path).
        case dataConfirmed(symbols: [String])
        /// A probe's snapshot answered with values.
        case probeAnswered(symbol: String)
        /// A probe failed (no contract yet, no values, an error).
        case probeFailed(symbol: String, reason: String)
        /// A keep-alive snapshot ended (answered or not).
        case keepAliveEnded(SubscriptionID)
        /// The periodic check's first half: each served symbol's trading hours.
        case marketHours([(symbol: String, hours: TradingHours)])
        /// The answer of `lua/staleness.lua`.
        case stalenessAnswered(StalenessChange)
        /// The staleness check failed (Redis away): `error` for the log.
        case stalenessFailed(error: String)
        /// The periodic check's second half: deadlines, keep-alive, readiness, state. `lines`
        /// are the lines that could be confirmed (not yet filtered by quietness).
        case tick(lines: [QuietLine])
        /// The publisher's refusal state (READONLY, OOM, ...) as now seen; nil: writes accepted.
        case publisherRefusal(WriteRefusal?)
        /// The set of served instruments changed (a request added, an instrument IB does not
        /// know): `served` in order, why Alpha Vantage cannot stand in for each that it
        /// cannot (absent: it can), and how it stands in for the others (in order).
        case servedChanged(served: [String], fallbackProblems: [String: String], fallbacks: [Fallback])
        /// The Alpha Vantage poller's answer (quotes, an FX rate, options, a failure).
        case alphaVantageAnswered(AlphaVantagePollEvent)
        /// A requested instrument was released; `served` is what remains.
        case released(symbol: String, served: [String])
        /// The group lease was won (`active`) or lost: a term starts from a clean slate.
        case roleChanged(active: Bool, served: [String])
        /// Something outside the core changed what the state may be; re-derive it.
        case refresh(reason: String)
        /// Graceful shutdown began.
        case stopRequested
        /// The last writes are queued: the final state.
        case stopped
    }

    /// A metric the shell records.
    enum Metric: Sendable, Hashable {
        /// `quote_relay_worker_state{state}`.
        case workerState(WorkerState)
        /// `quote_relay_failovers_total` += n.
        case failovers(Int)
        /// `quote_relay_failbacks_total` += n.
        case failbacks(Int)
        /// `quote_relay_symbol_staleness_seconds{symbol}`.
        case symbolStaleness(symbol: String, seconds: Double)
        /// `quote_relay_stale_keys`.
        case staleKeys(Int)
        /// `quote_relay_alphavantage_requests_total{function}` += 1.
        case alphaVantageRequest(function: String)
        /// `quote_relay_alphavantage_errors_total{kind}` += 1.
        case alphaVantageError(kind: String)
    }

    /// A log line as a value: level, message, metadata (rendered as strings).
    struct LogLine: Sendable, Hashable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String] = [:]
    }

    /// What the shell must do, in order.
    enum Action: Sendable, Hashable {
        /// Ask IB for a snapshot of `symbol`'s quote; answer with `probeAnswered`/`probeFailed`.
        case probe(symbol: String)
        /// Confirm a quiet line with a snapshot (answer with `keepAliveEnded`). Its next
        /// attempt is counted from now, answered or not: set its `lastConfirmedMs` to now.
        case keepAlive(SubscriptionID)
        /// `symbol` is IB's again: write its lines IB delivered since `sinceMs` (monotonic, the
        /// failover's start); confirm the others with a keep-alive at the next check.
        case writeIBLines(symbol: String, sinceMs: Int64)
        /// Write Alpha Vantage's quote under `key` (`source=alphavantage`).
        case writeAlphaVantageQuote(QuoteSnapshot, key: String)
        /// Write Alpha Vantage's FX rate under `key`, with the identity fields IB's record of
        /// the pair has (sec_type, currency, local_symbol, con_id).
        case writeAlphaVantageRate(QuoteSnapshot, key: String)
        /// Write Alpha Vantage's options of `key`'s underlying, those of its window only.
        case writeAlphaVantageOptions([OptionSnapshot], key: String)
        /// PUBLISH a worker event (JSON) on `P:events`.
        case publishEvent(String)
        /// Hand the poller the symbols now in failover.
        case updatePoller
        /// `/readyz`'s "data flowing" fact.
        case setDataFlowing(Bool)
        /// Rewrite the status hash now (the state changed).
        case writeStatus
        case metric(Metric)
        case log(LogLine)
    }

    let settings: Settings
    // The state below is changed only by `handle` (and `noteDataWritten`); the shell reads it.
    // (Internal setters, not `private(set)`: the decisions live in `WorkerCore+*.swift`.)

    /// The worker's state (the status hash's `state`).
    var state = WorkerState.starting
    /// The IB session's state as last seen.
    var session = SessionState.disconnected
    var everConnected = false
    var stopping = false
    /// Subscribes and writes (always, without a worker group; while holding the lease in one).
    var active: Bool
    var engine: FailoverEngine
    /// Symbols served by Alpha Vantage: IB's ticks are merged but not written for them.
    var failedOver: Set<String> = []
    /// When each symbol in `failedOver` failed over (monotonic ms).
    var failoverSinceMs: [String: Int64] = [:]
    /// Symbols IB cannot serve while there is no fallback for them (state `degraded`).
    var unservable: Set<String> = []
    /// Why each symbol in `unservable` has no fallback (the status hash says it).
    var noFallback: [String: String] = [:]
    /// Why Alpha Vantage cannot stand in for a served symbol (absent: it can).
    var fallbackProblems: [String: String] = [:]
    /// How Alpha Vantage stands in for each symbol it can, in served order.
    var fallbacks: [Fallback] = []
    /// The publisher's refusal state as last seen (state `degraded`).
    var writeRefusal: WriteRefusal?
    /// Consecutive failed staleness checks (logged at the first and every 30th).
    var stalenessFailures = 0
    /// Lines with a keep-alive snapshot in flight.
    var refreshing: Set<SubscriptionID> = []
    /// Monotonic ms of the last data write from any source (readiness).
    var lastPublishMs: Int64?
    /// Each symbol's market as last derived from its trading hours.
    var marketOpen: [String: Bool] = [:]

    /// - Parameters:
    ///   - served: the instruments the failover engine follows, in order.
    ///   - fallbackProblems: why Alpha Vantage cannot serve a symbol (absent: it can).
    ///   - fallbacks: how Alpha Vantage stands in for the others, in order.
    ///   - active: false for a member of a worker group until it holds the lease.
    init(
        settings: Settings, served: [String], fallbackProblems: [String: String], fallbacks: [Fallback] = [], active: Bool,
        monoMs: Int64
    ) {
        self.settings = settings
        self.fallbackProblems = fallbackProblems
        self.fallbacks = fallbacks
        self.active = active
        self.engine = FailoverEngine(symbols: served, policy: settings.policy, nowMs: monoMs)
    }

    /// Data was written (from IB or Alpha Vantage) at `monoMs`: the hot path's bookkeeping,
    /// kept out of `handle` so a batch of writes costs one store.
    mutating func noteDataWritten(monoMs: Int64) {
        lastPublishMs = monoMs
    }

    /// Handles one event at `now` and returns what to do, in order.
    mutating func handle(_ event: Event, now: Now) -> [Action] {
        if let session = now.session { self.session = session }
        var out: [Action] = []
        switch event {
        case .started(let gateway):
            transition(to: .connecting, reason: "connecting to IB Gateway at \(gateway)", now: now, &out)
        case let .sessionConnected(serverVersion, clientId):
            everConnected = true
            decide(.sessionConnected, now: now, &out)
            refresh(reason: "IB session ready (server version \(serverVersion), client id \(clientId))", now: now, &out)
        case let .sessionStateChanged(from, to, reason, attempts):
            if now.session == nil { session = to }  // the live state, when given, may be ahead of this event
            if from.isSessionUp && !to.isSessionUp { decide(.sessionDisconnected(reason: reason), now: now, &out) }
            if case .backoff = to { decide(.connectAttemptFailed(consecutive: attempts, reason: reason), now: now, &out) }
            refresh(reason: "IB session \(to.name): \(reason)", now: now, &out)
        case let .ibError(code, message, reqId, symbol):
            ibError(code: code, message: message, reqId: reqId, symbol: symbol, now: now, &out)
        case .dataConfirmed(let symbols):
            for symbol in symbols { decide(.dataConfirmed(symbol: symbol), now: now, &out) }
        case .probeAnswered(let symbol):
            decide(.probeAnswered(symbol: symbol), now: now, &out)
        case let .probeFailed(symbol, reason):
            decide(.probeFailed(symbol: symbol, reason: reason), now: now, &out)
        case .keepAliveEnded(let id):
            refreshing.remove(id)
        case .marketHours(let list):
            marketHours(list, now: now, &out)
        case .stalenessAnswered(let change):
            stalenessAnswered(change, now: now, &out)
        case .stalenessFailed(let error):
            stalenessFailures += 1
            // During an outage this fails every check: say it once, then every 30th time.
            if stalenessFailures == 1 || stalenessFailures % 30 == 0 {
                out.append(.log(LogLine(level: .warning, message: "staleness check failed", metadata: [
                    "error": error, "consecutive": "\(stalenessFailures)",
                ])))
            }
        case .tick(let lines):
            tick(lines, now: now, &out)
        case .publisherRefusal(let refusal):
            guard refusal != writeRefusal else { break }
            writeRefusal = refusal
            refresh(reason: refusal.map { "Redis refuses writes (\($0.errorClass))" } ?? "Redis accepts writes again", now: now, &out)
        case let .servedChanged(served, problems, fallbacks):
            fallbackProblems = problems
            self.fallbacks = fallbacks
            engine.setSymbols(served, nowMs: now.monoMs)
        case let .released(symbol, served):
            let wasFailedOver = failedOver.remove(symbol) != nil
            failoverSinceMs[symbol] = nil
            unservable.remove(symbol)
            noFallback[symbol] = nil
            marketOpen[symbol] = nil
            fallbackProblems[symbol] = nil
            fallbacks.removeAll { $0.symbol == symbol }
            engine.setSymbols(served, nowMs: now.monoMs)
            if wasFailedOver { out.append(.updatePoller) }
        case let .roleChanged(nowActive, served):
            roleChanged(active: nowActive, served: served, now: now, &out)
        case .alphaVantageAnswered(let answer):
            alphaVantageAnswered(answer, &out)
        case .refresh(let reason):
            refresh(reason: reason, now: now, &out)
        case .stopRequested:
            stopping = true
            transition(to: .stopping, reason: "shutdown requested", now: now, &out)
        case .stopped:
            stopping = true
            transition(to: .stopped, reason: "shut down cleanly", now: now, &out)
        }
        return out
    }

    /// The worker's state in CONTRACT terms, derived from the session, the failover set, the
    /// symbols without fallback and Redis' refusal.
    var derivedState: WorkerState {
        if stopping { return state == .stopped ? .stopped : .stopping }
        if !failedOver.isEmpty { return .failover }
        if writeRefusal != nil { return .degraded }
        if !unservable.isEmpty { return .degraded }
        switch session {
        case .connected: return .connected
        case .degraded: return .degraded
        case .stopped: return .stopped
        default: return everConnected || state != .starting ? .connecting : .starting
        }
    }

    /// The worker's source for the status hash and metrics: any symbol on Alpha Vantage makes
    /// it `alphavantage` (CONTRACT §3 allows `ib` or `alphavantage`).
    var source: String { failedOver.isEmpty ? "ib" : "alphavantage" }

    // MARK: - State

    mutating func refresh(reason: String, now: Now, _ out: inout [Action]) {
        transition(to: derivedState, reason: reason, now: now, &out)
    }

    /// On a change: the gauge, a log line, a `state` event and a status write.
    mutating func transition(to next: WorkerState, reason: String, now: Now, _ out: inout [Action]) {
        guard next != state else { return }
        let from = state
        state = next
        out.append(.metric(.workerState(next)))
        out.append(.log(LogLine(level: .notice, message: "worker \(from.rawValue) -> \(next.rawValue)", metadata: ["reason": reason])))
        out.append(.publishEvent(WorkerEvents.state(
            worker: settings.workerID, from: from.rawValue, to: next.rawValue, reason: reason, nowMs: now.wallMs)))
        out.append(.writeStatus)
    }

    // MARK: - Role

    mutating func roleChanged(active nowActive: Bool, served: [String], now: Now, _ out: inout [Action]) {
        active = nowActive
        engine = FailoverEngine(symbols: served, policy: settings.policy, nowMs: now.monoMs)
        if nowActive {
            if session.isSessionUp { decide(.sessionConnected, now: now, &out) }
            return
        }
        // Everything a term learned: the next term starts like a fresh worker.
        failedOver = []
        failoverSinceMs = [:]
        unservable = []
        noFallback = [:]
        refreshing = []
        lastPublishMs = nil
        marketOpen = [:]
        out.append(.updatePoller)
    }
}
