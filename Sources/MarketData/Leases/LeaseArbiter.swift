/// Shares the market data lines left after the pinned (YAML) instruments among the leases
/// applications write to Redis. A value: events in (the leases seen, time, the gateway's and
/// the failover's answers), actions out (subscribe, release, statuses). No I/O, no clock of its
/// own: every call carries `nowMs`, the time on the clock the lease expiries are written in
/// (Redis `TIME`, in ms), so the worker and the applications agree on expiry.
///
/// Order (README "Sharing the lines"): pinned instruments are always served by their own lines
/// and never count here; then requests by priority (each requester's priority clamped to
/// `maxPriority`), then age (when the instrument was first asked for), then key symbol.
/// Hysteresis: a line once given is kept while any lease on it lives, and `grace` after the
/// last one expired; it is taken away only by a request of strictly higher priority, and not
/// before it was held `minHold`. A line in its grace period (no live lease) gives way to any
/// live request at once.
public struct LeaseArbiter: Sendable {
    /// Limits and timings; see README "Subscriptions at runtime" for the config keys.
    public struct Settings: Sendable, Hashable {
        /// Lines requests may use: `ib.max_market_data_lines` minus what the pinned
        /// instruments may take (their quotes and option windows at most).
        public var lineCapacity: Int
        /// `leases.max_priority` [10]: higher priorities are clamped to it.
        public var maxPriority: Int = 10
        /// `leases.max_requests_per_requester` [50]: live leases of one requester beyond this
        /// are refused (not allowed).
        public var maxRequestsPerRequester: Int = 50
        /// `leases.new_requests_per_minute` [30]: new leases of one requester within
        /// `rateWindowMs` beyond this are refused (a flood), until they expire.
        public var newRequestsPerWindow: Int = 30
        public var rateWindowMs: Int64 = 60_000
        /// `leases.grace_ms` [10000]: a line stays this long after its last lease expired.
        public var graceMs: Int64 = 10_000
        /// `leases.min_hold_ms` [30000]: a line is not pre-empted before it was held this long.
        public var minHoldMs: Int64 = 30_000
        /// Whether `#options=` windows are served (false: refused as not allowed; the worker
        /// turns them on).
        public var optionWindows: Bool = false

        public init(lineCapacity: Int) {
            self.lineCapacity = max(0, lineCapacity)
        }
    }

    /// One member of `P:leases` as the worker read it.
    public struct Lease: Sendable, Hashable {
        public var requester: String
        public var spec: String
        /// The score: expiry in ms on Redis' clock.
        public var expiresMs: Int64
        /// From `P:leases:priority` (0 when absent).
        public var priority: Int

        public init(requester: String, spec: String, expiresMs: Int64, priority: Int = 0) {
            self.requester = requester
            self.spec = spec
            self.expiresMs = expiresMs
            self.priority = priority
        }

        /// The member of `P:leases`: `<requester>|<spec>`.
        public var member: String { "\(requester)|\(spec)" }

        /// Splits a member; nil when it has no `|` or the requester is not 1-64 of
        /// `[A-Za-z0-9_.-]` (such a member is dropped and reported as an event).
        public static func parse(member: String, expiresMs: Int64, priority: Int = 0) -> Lease? {
            guard let bar = member.firstIndex(of: "|") else { return nil }
            let requester = String(member[..<bar])
            guard isValidRequester(requester) else { return nil }
            return Lease(requester: requester, spec: String(member[member.index(after: bar)...]), expiresMs: expiresMs, priority: priority)
        }

        public static func isValidRequester(_ text: String) -> Bool {
            !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
        }
    }

    /// Who asked for what: one lease, the unit of status.
    public struct RequestRef: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var requester: String
        public var spec: String
        public init(requester: String, spec: String) {
            self.requester = requester
            self.spec = spec
        }
        public static func < (a: Self, b: Self) -> Bool { (a.requester, a.spec) < (b.requester, b.spec) }
        public var description: String { "\(requester)|\(spec)" }
    }

    /// A request's status (`state` of `P:request:<requester>:<spec>`).
    public enum RequestState: Sendable, Hashable {
        /// A line serves it (its own, a shared one, or a pinned instrument's).
        case active
        /// No line left; `place` 1 is the next to get one.
        case queued(place: Int)
        case refused(InstrumentRequest.Refusal)
        /// Served by Alpha Vantage while IB cannot (failover).
        case fallback
    }

    /// Who serves a line now (the failover's answer).
    public enum Service: Sendable, Hashable {
        case ib
        case alphaVantage
    }

    public enum Action: Sendable, Hashable {
        /// Open a quote line for the instrument (resolve the contract, subscribe).
        case subscribe(InstrumentRequest)
        /// Cancel the instrument's line at the gateway and forget it.
        case release(keySymbol: String)
        /// Write the request's status (`keySymbol` is where its data is, nil when refused).
        case setStatus(RequestRef, RequestState, keySymbol: String?)
        /// The lease is gone: delete the request's status.
        case clearStatus(RequestRef)
        /// Remove the member from `P:leases` (expired past the grace, or not parseable).
        case dropLease(member: String)
    }

    private struct Record: Sendable {
        var lease: Lease
        var firstSeenMs: Int64
        /// The parsed instrument, or why the request is refused for its whole lifetime.
        var verdict: Result<InstrumentRequest, InstrumentRequest.Refusal>
    }

    private struct Line: Sendable {
        var request: InstrumentRequest
        var sinceMs: Int64
        var service: Service = .ib
        /// The last evaluation that saw a live lease on it: a lease that vanished (deleted,
        /// or Redis restarted without its data) keeps the line `grace` from then.
        var lastLiveMs: Int64
    }

    public private(set) var settings: Settings
    /// The YAML instruments: key symbol -> identity (`InstrumentRequest.identity`).
    public let pinned: [String: String]
    private var records: [RequestRef: Record] = [:]
    private var lines: [String: Line] = [:]
    /// The gateway's refusals by key symbol, kept while any lease names the instrument.
    private var refusals: [String: InstrumentRequest.Refusal] = [:]
    private var newRequestTimes: [String: [Int64]] = [:]
    private var lastStatus: [RequestRef: RequestState] = [:]

    public init(settings: Settings, pinned: [String: String]) {
        self.settings = settings
        self.pinned = pinned
    }

    /// Key symbols with a line given to requests (for the worker's status and tests).
    public var heldKeySymbols: Set<String> { Set(lines.keys) }

    /// The status last emitted for a request.
    public func status(of ref: RequestRef) -> RequestState? { lastStatus[ref] }

    // MARK: Events

    /// The whole of `P:leases` as just read (with priorities), at Redis time `nowMs`.
    /// `unparseable` are members without a valid `<requester>|`: dropped.
    public mutating func leasesSeen(_ leases: [Lease], unparseable: [String] = [], nowMs: Int64) -> [Action] {
        var actions = unparseable.sorted().map { Action.dropLease(member: $0) }
        var seen = Set<RequestRef>()
        for lease in leases {
            let ref = RequestRef(requester: lease.requester, spec: lease.spec)
            seen.insert(ref)
            if var record = records[ref] {
                record.lease = lease
                records[ref] = record
            } else if lease.expiresMs > nowMs {
                records[ref] = Record(lease: lease, firstSeenMs: nowMs, verdict: admit(lease, nowMs: nowMs))
            } else {
                // Seen only after it expired: nothing to serve, only to clean up.
                if lease.expiresMs + settings.graceMs <= nowMs { actions.append(.dropLease(member: lease.member)) }
            }
        }
        for ref in records.keys where !seen.contains(ref) { records[ref] = nil }
        return actions + evaluate(nowMs: nowMs)
    }

    /// Time passes (the worker's timer, between reads).
    public mutating func tick(nowMs: Int64) -> [Action] { evaluate(nowMs: nowMs) }

    /// IB refused the instrument (unknown contract, no permission): its line is released and
    /// every request for it refused until they all expire.
    public mutating func gatewayRefused(keySymbol: String, _ refusal: InstrumentRequest.Refusal, nowMs: Int64) -> [Action] {
        refusals[keySymbol] = refusal
        return evaluate(nowMs: nowMs)
    }

    /// Who serves the instrument now: `fallback` while Alpha Vantage does.
    public mutating func served(keySymbol: String, by service: Service, nowMs: Int64) -> [Action] {
        guard lines[keySymbol] != nil, lines[keySymbol]?.service != service else { return [] }
        lines[keySymbol]?.service = service
        return evaluate(nowMs: nowMs)
    }

    /// The capacity changed (the worker learnt the pinned instruments' real needs).
    public mutating func setLineCapacity(_ capacity: Int, nowMs: Int64) -> [Action] {
        settings.lineCapacity = max(0, capacity)
        return evaluate(nowMs: nowMs)
    }

    // MARK: Decisions

    /// First sight of a lease: parse it and apply the per-requester limits.
    private mutating func admit(_ lease: Lease, nowMs: Int64) -> Result<InstrumentRequest, InstrumentRequest.Refusal> {
        var times = (newRequestTimes[lease.requester] ?? []).filter { $0 > nowMs - settings.rateWindowMs }
        times.append(nowMs)
        newRequestTimes[lease.requester] = times
        if times.count > settings.newRequestsPerWindow {
            return .failure(.notAllowed(
                "rate limited: more than \(settings.newRequestsPerWindow) new requests from \(lease.requester) within \(settings.rateWindowMs / 1000) s"))
        }
        // Only admitted requests count: a refused one holds no place (a requester with 6 of 6
        // and two refused reads "holds 6", never 7).
        let live = records.values.count {
            if case .success = $0.verdict { $0.lease.requester == lease.requester && $0.lease.expiresMs > nowMs } else { false }
        }
        if live >= settings.maxRequestsPerRequester {
            return .failure(.notAllowed("\(lease.requester) already holds \(live) requests (leases.max_requests_per_requester = \(settings.maxRequestsPerRequester))"))
        }
        let parsed = InstrumentRequest.parse(lease.spec)
        guard case .success(let request) = parsed else { return parsed }
        let key = request.keySymbol
        if let other = pinned[key], other != request.identity {
            return .failure(.notAllowed("P:quote:\(key) holds the pinned \(other); this asks for \(request.identity)"))
        }
        if let other = records.values.lazy.compactMap({ try? $0.verdict.get() }).first(where: { $0.keySymbol == key && $0.identity != request.identity }) {
            return .failure(.notAllowed("P:quote:\(key) is already requested as \(other.identity); this asks for \(request.identity)"))
        }
        if request.options != nil && !settings.optionWindows {
            return .failure(.notAllowed("this worker serves no option windows at runtime; pin the window in the YAML file"))
        }
        if request.linesNeeded > settings.lineCapacity && pinned[request.keySymbol] == nil {
            return .failure(.notAllowed(
                "needs \(request.linesNeeded) market data lines, only \(settings.lineCapacity) exist for requests (ib.max_market_data_lines minus the pinned instruments)"))
        }
        return parsed
    }

    private struct Demand {
        var request: InstrumentRequest
        var priority: Int
        var firstSeenMs: Int64
        var live: Bool
        var lastExpiryMs: Int64
    }

    private mutating func evaluate(nowMs: Int64) -> [Action] {
        var actions: [Action] = []
        // Expired past the grace: the member is removed, the status deleted.
        for (ref, record) in records where record.lease.expiresMs + settings.graceMs <= nowMs {
            actions.append(.dropLease(member: record.lease.member))
            records[ref] = nil
        }
        // Demand per instrument, from requests that parsed and passed the limits.
        var demand: [String: Demand] = [:]
        for record in records.values {
            guard case .success(let request) = record.verdict else { continue }
            let key = request.keySymbol
            let live = record.lease.expiresMs > nowMs
            let priority = live ? min(max(record.lease.priority, 0), settings.maxPriority) : -1
            if var d = demand[key] {
                d.priority = max(d.priority, priority)
                d.firstSeenMs = min(d.firstSeenMs, record.firstSeenMs)
                d.live = d.live || live
                d.lastExpiryMs = max(d.lastExpiryMs, record.lease.expiresMs)
                demand[key] = d
            } else {
                demand[key] = Demand(request: request, priority: priority, firstSeenMs: record.firstSeenMs, live: live, lastExpiryMs: record.lease.expiresMs)
            }
        }
        for key in refusals.keys where demand[key] == nil { refusals[key] = nil }
        // Lines that go: refused by the gateway, or no live lease within the grace.
        for key in lines.keys.sorted() {
            guard var line = lines[key] else { continue }
            let d = demand[key]
            if d?.live == true { line.lastLiveMs = nowMs }
            lines[key] = line
            let lastNeededMs: Int64? = d.map { $0.live ? nil : $0.lastExpiryMs } ?? line.lastLiveMs
            let graceOver = lastNeededMs.map { $0 + settings.graceMs <= nowMs } ?? false
            if refusals[key] != nil || graceOver {
                lines[key] = nil
                actions.append(.release(keySymbol: key))
            }
        }
        // The capacity shrank (a pinned window grew): the lowest priority, newest lines give
        // way until the requests fit again; they queue like any other.
        var inUse = lines.values.reduce(0) { $0 + $1.request.linesNeeded }
        while inUse > settings.lineCapacity {
            let ranked = lines.map { (key: $0.key, priority: demand[$0.key]?.live == true ? demand[$0.key]!.priority : -1, since: $0.value.sinceMs) }
            guard let victim = ranked.min(by: { ($0.priority, -$0.since, $0.key) < ($1.priority, -$1.since, $1.key) }) else { break }
            inUse -= lines[victim.key]?.request.linesNeeded ?? 0
            lines[victim.key] = nil
            actions.append(.release(keySymbol: victim.key))
        }
        // Who waits, in the arbiter's order.
        func before(_ a: (String, Demand), _ b: (String, Demand)) -> Bool {
            if a.1.priority != b.1.priority { return a.1.priority > b.1.priority }
            if a.1.firstSeenMs != b.1.firstSeenMs { return a.1.firstSeenMs < b.1.firstSeenMs }
            return a.0 < b.0
        }
        var waiting = demand.filter { key, d in d.live && lines[key] == nil && pinned[key] == nil && refusals[key] == nil }
            .map { ($0.key, $0.value) }.sorted(by: before)
        var used = lines.values.reduce(0) { $0 + $1.request.linesNeeded }
        var admitted: [String] = []
        var stillWaiting: [(String, Demand)] = []
        for (key, d) in waiting {
            // Pre-empt: lines in their grace first, then lower priorities held long enough.
            while used + d.request.linesNeeded > settings.lineCapacity {
                let victims = lines.keys.compactMap { k -> (String, Int, Int64)? in
                    guard let line = lines[k] else { return nil }
                    guard let held = demand[k], held.live else { return (k, -1, line.sinceMs) }
                    let preemptible = held.priority < d.priority && nowMs - line.sinceMs >= settings.minHoldMs
                    return preemptible ? (k, held.priority, line.sinceMs) : nil
                }
                guard let victim = victims.min(by: { ($0.1, -$0.2, $0.0) < ($1.1, -$1.2, $1.0) }) else { break }
                used -= lines[victim.0]?.request.linesNeeded ?? 0
                lines[victim.0] = nil
                actions.append(.release(keySymbol: victim.0))
                if let held = demand[victim.0], held.live { stillWaiting.append((victim.0, held)) }
            }
            if used + d.request.linesNeeded <= settings.lineCapacity {
                used += d.request.linesNeeded
                lines[key] = Line(request: d.request, sinceMs: nowMs, lastLiveMs: nowMs)
                admitted.append(key)
                actions.append(.subscribe(d.request))
            } else {
                stillWaiting.append((key, d))
            }
        }
        waiting = stillWaiting.sorted(by: before)
        var place: [String: Int] = [:]
        for (index, entry) in waiting.enumerated() { place[entry.0] = index + 1 }
        // Statuses: only changes are emitted.
        for ref in records.keys.sorted() {
            guard let record = records[ref] else { continue }
            let state: RequestState?
            var key: String?
            switch record.verdict {
            case .failure(let refusal):
                state = .refused(refusal)
            case .success(let request):
                key = request.keySymbol
                if record.lease.expiresMs <= nowMs {
                    state = nil
                } else if let refusal = refusals[request.keySymbol] {
                    state = .refused(refusal)
                    key = nil
                } else if pinned[request.keySymbol] != nil {
                    state = .active
                } else if let line = lines[request.keySymbol] {
                    state = line.service == .alphaVantage ? .fallback : .active
                } else if let p = place[request.keySymbol] {
                    state = .queued(place: p)
                } else {
                    state = nil
                }
            }
            if let state {
                if lastStatus[ref] != state {
                    lastStatus[ref] = state
                    actions.append(.setStatus(ref, state, keySymbol: key))
                }
            } else if lastStatus[ref] != nil {
                lastStatus[ref] = nil
                actions.append(.clearStatus(ref))
            }
        }
        for ref in lastStatus.keys.sorted() where records[ref] == nil {
            lastStatus[ref] = nil
            actions.append(.clearStatus(ref))
        }
        for requester in newRequestTimes.keys {
            let recent = newRequestTimes[requester]?.filter { $0 > nowMs - settings.rateWindowMs } ?? []
            newRequestTimes[requester] = recent.isEmpty ? nil : recent
        }
        return actions
    }
}
