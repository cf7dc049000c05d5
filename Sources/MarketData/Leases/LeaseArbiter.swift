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
///
/// Requests are keyed by what they ask for (instrument and option window): one line per
/// instrument serves the union of its leases' windows; a window it does not serve yet waits
/// as its own entry (`queued`, never `active` before it is served), and a window no live
/// lease needs any more is narrowed `grace` later (`resize`). With `lookUpFirst`, IB confirms
/// a contract (`lookUp`, no line) before it may take a line.
public struct LeaseArbiter: Sendable {
    /// Limits and timings; see README "Subscriptions at runtime" for the config keys.
    public struct Settings: Sendable, Hashable {
        /// Lines requests may use: `ib.max_market_data_lines` minus what the pinned
        /// instruments may take (their quotes and option windows at most).
        public var lineCapacity: Int
        /// `leases.max_priority` [10]: higher priorities are clamped to it.
        public var maxPriority: Int = 10
        /// `leases.requester_max_priority` [none]: a requester's own maximum, in place of
        /// `maxPriority` (e.g. `backfill` at 2 cannot outbid `trader` at 8, whatever it writes).
        public var maxPriorityByRequester: [String: Int] = [:]
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
        /// Whether IB must confirm a requested instrument's contract (contract details, which
        /// take no market data line) before it may take a line: `lookUp` actions, answered by
        /// `contractKnown` / `gatewayRefused` / `lookUpFailed`. The worker turns it on, so
        /// unknown instruments never hold lines while IB is asked about them.
        public var lookUpFirst: Bool = false
        /// At most this many contract look-ups at a time (they go through the session's pacer,
        /// `ib.max_requests_per_second`).
        public var maxLookUps: Int = 40
        /// A queued request's new place is written at most this often; a change of state
        /// (queued -> active, ...) at once.
        public var placeRefreshMs: Int64 = 5_000

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
        /// A line serves it (its own, a shared one, or a pinned instrument's), with every
        /// option of its window.
        case active
        /// No line left; `place` 1 is the next to get one.
        case queued(place: Int)
        /// Waiting for IB's contract details before it may take a line (written as `queued`
        /// without a place, `reason` saying so).
        case lookingUp
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
        /// Open a quote line for the instrument (resolve the contract, subscribe), with the
        /// option window `request.options` (the union of the windows its leases ask for).
        case subscribe(InstrumentRequest)
        /// The instrument's line stays; its option window becomes `request.options` (nil: the
        /// quote alone): wider when a lease asks for more and the lines are there, narrower
        /// `grace` after the last lease that needed the wider one went.
        case resize(InstrumentRequest)
        /// Ask IB for the instrument's contract (contract details; no market data line).
        case lookUp(InstrumentRequest)
        /// Cancel the instrument's line at the gateway and forget it.
        case release(keySymbol: String)
        /// Write the request's status (`keySymbol` is where its data is, nil when refused).
        /// `news`: the state changed (worth a log line), not only a queued request's place.
        case setStatus(RequestRef, RequestState, keySymbol: String?, news: Bool = true)
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
        /// The last evaluation at which live leases needed all of the line's window: a wider
        /// window than they need is narrowed `grace` after that.
        var windowNeededMs: Int64
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
    /// When each request's status was last emitted (rate-bounds place updates).
    private var lastStatusMs: [RequestRef: Int64] = [:]
    /// Key symbols whose contract IB confirmed (kept while any lease names them).
    private var known: Set<String> = []
    /// Key symbols with a contract look-up under way.
    private var lookingUp: Set<String> = []
    /// Whether the next look-up slot is taken from the front (oldest) of the waiting
    /// instruments; it alternates across evaluations, as slots free up one by one.
    private var lookUpFromFront = true
    /// The pinned instruments' option windows (absent: the pinned entry follows no options,
    /// or a window the lease grammar cannot compare, such as a days-to-expiry range).
    public let pinnedWindows: [String: InstrumentRequest.Options]

    /// `pinned`: key symbol -> identity of every YAML instrument; `pinnedWindows`: the
    /// windows of those that follow options (`EXPIRATIONSxSTRIKES` per trading class, no
    /// days-to-expiry range), which leases of at most that window share.
    public init(settings: Settings, pinned: [String: String], pinnedWindows: [String: InstrumentRequest.Options] = [:]) {
        self.settings = settings
        self.pinned = pinned
        self.pinnedWindows = pinnedWindows
    }

    /// Key symbols with a line given to requests (for the worker's status and tests).
    public var heldKeySymbols: Set<String> { Set(lines.keys) }

    /// What the line of `keySymbol` serves now (its option window the union of its leases'),
    /// nil when requests hold no line for it.
    public func served(keySymbol: String) -> InstrumentRequest? { lines[keySymbol]?.request }

    /// Key symbols with a contract look-up under way.
    public var lookUpsInFlight: Set<String> { lookingUp }

    /// The status last emitted for a request.
    public func status(of ref: RequestRef) -> RequestState? { lastStatus[ref] }

    // MARK: Events

    /// The whole of `P:leases` as just read (with priorities), at Redis time `nowMs`.
    /// `unparseable` are members without a valid `<requester>|`: dropped.
    /// `invalidExpiry` are members whose score is not a time in ms (`+inf`, `1e300`, NaN):
    /// dropped, and refused (a status the worker writes for `grace`; never silently ignored).
    public mutating func leasesSeen(_ leases: [Lease], unparseable: [String] = [], invalidExpiry: [Lease] = [], nowMs: Int64) -> [Action] {
        var actions = unparseable.sorted().map { Action.dropLease(member: $0) }
        for lease in invalidExpiry.sorted(by: { $0.member < $1.member }) {
            actions.append(.dropLease(member: lease.member))
            actions.append(.setStatus(
                RequestRef(requester: lease.requester, spec: lease.spec),
                .refused(.invalid(Self.invalidExpiryReason)), keySymbol: nil))
        }
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

    /// Why a lease whose score is not a usable expiry is refused.
    public static let invalidExpiryReason =
        "the expiry (the score in P:leases) must be a finite time in ms on Redis' clock, at most \(maxExpiryMs)"

    /// The largest expiry accepted: 2^53 ms (about the year 287 000), the last millisecond a
    /// Redis score (a double) holds exactly.
    public static let maxExpiryMs: Int64 = 1 << 53

    /// The expiry a `P:leases` score stands for, or nil when it is none (not finite, beyond
    /// `maxExpiryMs` or below `-maxExpiryMs`).
    public static func expiryMs(score: Double) -> Int64? {
        guard score.isFinite, abs(score) <= Double(maxExpiryMs) else { return nil }
        return Int64(score.rounded())
    }

    /// Time passes (the worker's timer, between reads).
    public mutating func tick(nowMs: Int64) -> [Action] { evaluate(nowMs: nowMs) }

    /// IB refused the instrument (unknown contract, no permission): its line is released and
    /// every request for it refused until they all expire.
    public mutating func gatewayRefused(keySymbol: String, _ refusal: InstrumentRequest.Refusal, nowMs: Int64) -> [Action] {
        refusals[keySymbol] = refusal
        lookingUp.remove(keySymbol)
        return evaluate(nowMs: nowMs)
    }

    /// IB knows the instrument (contract details answered): it may take a line now.
    public mutating func contractKnown(keySymbol: String, nowMs: Int64) -> [Action] {
        lookingUp.remove(keySymbol)
        known.insert(keySymbol)
        return evaluate(nowMs: nowMs)
    }

    /// Many look-up answers at once (one evaluation: the worker hands over what arrived
    /// since its last read): `known` may take lines, `refused` are refused, `failed` asked
    /// again.
    public mutating func lookUpsAnswered(
        known newlyKnown: [String], refused: [String: InstrumentRequest.Refusal], failed: [String], nowMs: Int64
    ) -> [Action] {
        for key in newlyKnown {
            lookingUp.remove(key)
            known.insert(key)
        }
        for (key, refusal) in refused {
            lookingUp.remove(key)
            refusals[key] = refusal
        }
        for key in failed { lookingUp.remove(key) }
        return evaluate(nowMs: nowMs)
    }

    /// The look-up failed for a passing reason (gateway away, timeout): asked again later.
    public mutating func lookUpFailed(keySymbol: String, nowMs: Int64) -> [Action] {
        lookingUp.remove(keySymbol)
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
        if pinned[key] != nil, let window = request.options, !InstrumentRequest.Options.covers(pinnedWindows[key], window) {
            let pinnedText = pinnedWindows[key].map { "the window \($0.expirations)x\($0.strikesAroundATM)" } ?? "no option window a lease can share"
            return .failure(.notAllowed(
                "\(key) is pinned with \(pinnedText); a lease cannot widen a pinned instrument's window (ask for at most that, or change the YAML file)"))
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

    /// What the leases of one instrument (key symbol) need.
    private struct Demand {
        /// The instrument without a window.
        var base: InstrumentRequest
        var priority: Int
        var firstSeenMs: Int64
        var live: Bool
        var lastExpiryMs: Int64
        /// The union of the windows live leases ask for.
        var liveWindow: InstrumentRequest.Options?
        /// The union of the windows of every lease still known (live, or expired within the
        /// grace).
        var keepWindow: InstrumentRequest.Options?
    }

    /// One thing asked for that no line serves yet: an instrument with its window. Requests
    /// are keyed by what they ask for, so `NVDA` and `NVDA#options=1x2` are two entries.
    private struct Want {
        var request: InstrumentRequest
        var priority: Int
        var firstSeenMs: Int64
    }

    /// A lease's priority within 0 and its requester's maximum.
    private func clamped(_ lease: Lease) -> Int {
        min(max(lease.priority, 0), settings.maxPriorityByRequester[lease.requester] ?? settings.maxPriority)
    }

    /// Whether the instrument must still be confirmed by IB before it may take a line.
    private func needsLookUp(_ key: String) -> Bool {
        settings.lookUpFirst && pinned[key] == nil && lines[key] == nil && !known.contains(key) && refusals[key] == nil
    }

    /// Live, admitted requests that no line (nor pinned entry) serves, in the arbiter's order:
    /// priority, then age, then the spec.
    private func wants(nowMs: Int64) -> [Want] {
        var byRequest: [InstrumentRequest: Want] = [:]
        for record in records.values {
            guard case .success(let request) = record.verdict, record.lease.expiresMs > nowMs else { continue }
            let key = request.keySymbol
            guard pinned[key] == nil, refusals[key] == nil, !needsLookUp(key) else { continue }
            if let line = lines[key], InstrumentRequest.Options.covers(line.request.options, request.options) { continue }
            let priority = clamped(record.lease)
            if var want = byRequest[request] {
                want.priority = max(want.priority, priority)
                want.firstSeenMs = min(want.firstSeenMs, record.firstSeenMs)
                byRequest[request] = want
            } else {
                byRequest[request] = Want(request: request, priority: priority, firstSeenMs: record.firstSeenMs)
            }
        }
        return byRequest.values.sorted { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.firstSeenMs != b.firstSeenMs { return a.firstSeenMs < b.firstSeenMs }
            return a.request.description < b.request.description
        }
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
            let priority = live ? clamped(record.lease) : -1
            var d = demand[key] ?? Demand(
                base: request.with(options: nil), priority: priority, firstSeenMs: record.firstSeenMs, live: live,
                lastExpiryMs: record.lease.expiresMs, liveWindow: nil, keepWindow: nil)
            d.priority = max(d.priority, priority)
            d.firstSeenMs = min(d.firstSeenMs, record.firstSeenMs)
            d.live = d.live || live
            d.lastExpiryMs = max(d.lastExpiryMs, record.lease.expiresMs)
            if live { d.liveWindow = InstrumentRequest.Options.union(d.liveWindow, request.options) }
            d.keepWindow = InstrumentRequest.Options.union(d.keepWindow, request.options)
            demand[key] = d
        }
        for key in refusals.keys where demand[key] == nil { refusals[key] = nil }
        known = known.filter { demand[$0] != nil }
        // Lines that go: refused by the gateway, or no live lease within the grace.
        var resized: Set<String> = []
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
                continue
            }
            // A window wider than the live leases need (the lease that asked for it went)
            // narrows `grace` after it was last needed, to what the leases still known ask for:
            // its option lines are released, the quote line stays.
            guard let d, d.live else { continue }
            if InstrumentRequest.Options.covers(d.liveWindow, line.request.options) {
                line.windowNeededMs = nowMs
                lines[key] = line
            } else if line.windowNeededMs + settings.graceMs <= nowMs {
                let target = InstrumentRequest.Options.clip(d.keepWindow, to: line.request.options)
                if target != line.request.options {
                    line.request = line.request.with(options: target)
                    lines[key] = line
                    resized.insert(key)
                }
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
            resized.remove(victim.key)
            actions.append(.release(keySymbol: victim.key))
        }
        // Contract look-ups before any line (IB answers contract details without a line): at
        // most `maxLookUps` at a time, taken alternately from the front (highest priority,
        // oldest) and the back (newest) of the waiting instruments, so neither a flood written
        // before a request nor one written after it holds the request back for long.
        if settings.lookUpFirst {
            lookingUp = lookingUp.filter { demand[$0] != nil }
            let pending = demand.filter { key, d in d.live && needsLookUp(key) && !lookingUp.contains(key) }
                .sorted { a, b in
                    if a.value.priority != b.value.priority { return a.value.priority > b.value.priority }
                    if a.value.firstSeenMs != b.value.firstSeenMs { return a.value.firstSeenMs < b.value.firstSeenMs }
                    return a.key < b.key
                }
            var front = 0
            var back = pending.count - 1
            while lookingUp.count < settings.maxLookUps, front <= back {
                let entry = lookUpFromFront ? pending[front] : pending[back]
                if lookUpFromFront { front += 1 } else { back -= 1 }
                lookUpFromFront.toggle()
                lookingUp.insert(entry.key)
                actions.append(.lookUp(entry.value.base))
            }
        }
        // Who waits, in the arbiter's order; each want takes the lines its window adds to
        // what the instrument's line serves already.
        var used = lines.values.reduce(0) { $0 + $1.request.linesNeeded }
        var opened: Set<String> = []
        for want in wants(nowMs: nowMs) {
            let key = want.request.keySymbol
            let current = lines[key]?.request
            if let current, InstrumentRequest.Options.covers(current.options, want.request.options) { continue }
            let target = (current ?? want.request).with(options: InstrumentRequest.Options.union(current?.options, want.request.options))
            let cost = target.linesNeeded - (current?.linesNeeded ?? 0)
            // Pre-empt: lines in their grace first, then lower priorities held long enough.
            while used + cost > settings.lineCapacity {
                let victims = lines.keys.compactMap { k -> (String, Int, Int64)? in
                    guard k != key, let line = lines[k] else { return nil }
                    guard let held = demand[k], held.live else { return (k, -1, line.sinceMs) }
                    let preemptible = held.priority < want.priority && nowMs - line.sinceMs >= settings.minHoldMs
                    return preemptible ? (k, held.priority, line.sinceMs) : nil
                }
                guard let victim = victims.min(by: { ($0.1, -$0.2, $0.0) < ($1.1, -$1.2, $1.0) }) else { break }
                used -= lines[victim.0]?.request.linesNeeded ?? 0
                lines[victim.0] = nil
                opened.remove(victim.0)
                resized.remove(victim.0)
                actions.append(.release(keySymbol: victim.0))
            }
            guard used + cost <= settings.lineCapacity else { continue }
            used += cost
            if var line = lines[key] {
                line.request = target
                line.windowNeededMs = nowMs
                lines[key] = line
                if !opened.contains(key) { resized.insert(key) }
            } else {
                lines[key] = Line(request: target, sinceMs: nowMs, lastLiveMs: nowMs, windowNeededMs: nowMs)
                opened.insert(key)
            }
        }
        for key in opened.sorted() { if let line = lines[key] { actions.append(.subscribe(line.request)) } }
        for key in resized.sorted() { if let line = lines[key] { actions.append(.resize(line.request)) } }
        var place: [InstrumentRequest: Int] = [:]
        for (index, want) in wants(nowMs: nowMs).enumerated() { place[want.request] = index + 1 }
        // Statuses: only changes are emitted; a queued request's place at most every
        // `placeRefreshMs`.
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
                } else if let line = lines[request.keySymbol], InstrumentRequest.Options.covers(line.request.options, request.options) {
                    state = line.service == .alphaVantage ? .fallback : .active
                } else if let p = place[request] {
                    state = .queued(place: p)
                } else if needsLookUp(request.keySymbol) {
                    state = .lookingUp
                } else {
                    state = nil
                }
            }
            if let state {
                let old = lastStatus[ref]
                guard old != state else { continue }
                var placeOnly = false
                if case .queued? = old, case .queued = state { placeOnly = true }
                if placeOnly, let since = lastStatusMs[ref], nowMs - since < settings.placeRefreshMs { continue }
                lastStatus[ref] = state
                lastStatusMs[ref] = nowMs
                actions.append(.setStatus(ref, state, keySymbol: key, news: !placeOnly))
            } else if lastStatus[ref] != nil {
                lastStatus[ref] = nil
                lastStatusMs[ref] = nil
                actions.append(.clearStatus(ref))
            }
        }
        for ref in lastStatus.keys.sorted() where records[ref] == nil {
            lastStatus[ref] = nil
            lastStatusMs[ref] = nil
            actions.append(.clearStatus(ref))
        }
        for requester in newRequestTimes.keys {
            let recent = newRequestTimes[requester]?.filter { $0 > nowMs - settings.rateWindowMs } ?? []
            newRequestTimes[requester] = recent.isEmpty ? nil : recent
        }
        return actions
    }
}
