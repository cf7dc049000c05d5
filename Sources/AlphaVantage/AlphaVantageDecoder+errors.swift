extension AlphaVantageDecoder {
    /// The error an HTTP-200 body stands for, or nil when it carries data.
    ///
    /// Texts seen from the live API (quoted by client libraries and their tests):
    /// - `{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5
    ///   calls per minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/
    ///   if you would like to target a higher API call frequency."}` (older per-minute throttle;
    ///   finance-quote/finance-quote#104, RomelTorres/alpha_vantage#128).
    /// - `{"Information": "Thank you for using Alpha Vantage! Please consider spreading out your
    ///   free API requests more sparingly (1 request per second). You may subscribe to any of
    ///   the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate
    ///   limit (25 requests per day), raise the per-second burst limit, and instantly unlock all
    ///   premium endpoints"}` (burst throttle; it mentions the daily limit but is not one).
    /// - `{"Information": "We have detected your API key as KEY and our standard API rate limit
    ///   is 25 requests per day. Please subscribe to any of the premium plans at
    ///   https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}`
    ///   (daily cap; older variant "Thank you for using Alpha Vantage! Our standard API rate
    ///   limit is 25 requests per day.").
    /// - `{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint. You may
    ///   subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to
    ///   instantly unlock all premium endpoints"}`; REALTIME_OPTIONS instead answers
    ///   `{"endpoint": "Realtime Options", "message": "This is a premium endpoint. ***THE SAMPLE
    ///   DATA SCHEMA BELOW IS ARTIFICIAL...", "data": [fake rows]}`, which must never be decoded.
    /// - `{"Error Message": "Invalid API call. Please retry or visit the documentation
    ///   (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}` and
    ///   `{"Error Message": "the parameter apikey is invalid or missing. Please claim your free
    ///   API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20
    ///   seconds."}`.
    /// An unrecognised `Note`/`Information` is treated as a throttle: backing off is the safe
    /// reaction to a notice nobody has seen before.
    public static func classify(_ object: [String: Any]) -> AlphaVantageError? {
        if let message = object["Error Message"] as? String {
            return .invalidCall(message)
        }
        if let message = (object["Information"] as? String) ?? (object["Note"] as? String) {
            return classifyNotice(message)
        }
        if let message = object["message"] as? String, message.lowercased().contains("premium endpoint") {
            return .premiumOnly(message)
        }
        return nil
    }

    /// Sorts a `Note` / `Information` text into throttle, daily cap, premium or invalid call.
    /// Order matters: the burst text also names the daily limit, and the premium text of the
    /// burst notice ("unlock all premium endpoints") is an upsell, not a refusal.
    public static func classifyNotice(_ message: String) -> AlphaVantageError {
        let text = message.lowercased()
        let throttleMarks = ["spreading out", "sparingly", "burst", "per second", "per minute", "call frequency"]
        if throttleMarks.contains(where: text.contains) { return .throttled(message) }
        if text.contains("per day") || text.contains("daily") { return .dailyLimit(message) }
        if text.contains("premium endpoint") || text.contains("premium function") { return .premiumOnly(message) }
        if text.contains("invalid api call") || text.contains("apikey is invalid") || text.contains("demo") {
            return .invalidCall(message)
        }
        return .throttled(message)
    }
}
