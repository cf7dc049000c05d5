import IBSession

extension WorkerCore {
    /// What a line's status (from `SubscriptionStatus`, decided per IB error code in
    /// IBSession's `IBErrorClass`) means for the worker.
    struct LineStatusDecision: Sendable, Hashable {
        /// What to do with the line and its instrument.
        enum Effect: Sendable, Hashable {
            /// The quote line is (re)requested: its instrument has no problem and no warning.
            case clearInstrument
            /// The quote line cannot be served: the instrument's problem (status hash `problems`).
            case setProblem
            /// The quote line stays open with a warning (status hash `warnings`); an earlier
            /// problem stays as it is.
            case setWarning
            /// Cancel the option line and forget it; with `remember`, IB will never serve it
            /// (unknown contract, no permission) and it is not asked for again; without, the
            /// next re-centring asks again if the line budget still admits it.
            case dropOption(remember: Bool)
            /// Nothing changes (an option's warning, or its line requested again).
            case keep
        }

        var effect: Effect
        /// Why IB cannot serve the line, in plain words (logged as a warning).
        var problem: String?
        /// A warning about a line that stays open (logged as a notice).
        var warning: String?
    }

    /// Decides what `status` means for a quote line (`isQuote`) or an option line. Only the
    /// underlying's own quote line describes the instrument.
    static func lineStatus(isQuote: Bool, _ status: SubscriptionStatus) -> LineStatusDecision {
        var problem: String?
        var warning: String?
        switch status {
        case .requested: break
        case let .noPermission(code, message): problem = "no market data permission (\(code)): \(message)"
        case .delayed(let message): warning = "delayed data instead of live (10167): \(message)"
        case let .warning(code, message): warning = "IB warning (\(code)): \(message)"
        case let .invalidContract(code, message): problem = "IB does not know the contract (\(code)): \(message)"
        case .tooManyLines(let message): problem = "market data lines exhausted (101): \(message)"
        case .competingSession(let message): problem = "competing live session (10197): \(message)"
        case let .failed(code, message): problem = "request failed (\(code)), line cancelled: \(message)"
        }
        let effect: LineStatusDecision.Effect
        switch (isQuote, status) {
        case (true, .requested): effect = .clearInstrument
        case (true, _): effect = warning != nil ? .setWarning : .setProblem
        case (false, .invalidContract), (false, .noPermission): effect = .dropOption(remember: true)
        case (false, .tooManyLines), (false, .failed): effect = .dropOption(remember: false)
        case (false, _): effect = .keep
        }
        return LineStatusDecision(effect: effect, problem: problem, warning: warning)
    }
}
