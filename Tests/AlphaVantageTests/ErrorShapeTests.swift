import Testing
@testable import AlphaVantage

/// Every error body Alpha Vantage sends with HTTP 200, with its real text, maps to one code.
@Suite struct ErrorShapeTests {
    static let noteThrottle = "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day. Please visit https://www.alphavantage.co/premium/ if you would like to target a higher API call frequency."
    static let burstThrottle = "Thank you for using Alpha Vantage! Please consider spreading out your free API requests more sparingly (1 request per second). You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day), raise the per-second burst limit, and instantly unlock all premium endpoints"
    static let daily = "We have detected your API key as SECRET123 and our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."
    static let dailyOld = "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day."
    static let premium = "Thank you for using Alpha Vantage! This is a premium endpoint. You may subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly unlock all premium endpoints"
    static let invalid = "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for GLOBAL_QUOTE."
    static let badKey = "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."

    @Test func noteIsThrottle() {
        #expect(AlphaVantageDecoder.classify(["Note": Self.noteThrottle]) == .throttled(Self.noteThrottle))
    }

    @Test func burstInformationIsThrottleDespiteNamingTheDailyLimit() {
        #expect(AlphaVantageDecoder.classify(["Information": Self.burstThrottle]) == .throttled(Self.burstThrottle))
    }

    @Test func dailyCapTexts() {
        #expect(AlphaVantageDecoder.classify(["Information": Self.daily]) == .dailyLimit(Self.daily))
        #expect(AlphaVantageDecoder.classify(["Note": Self.dailyOld]) == .dailyLimit(Self.dailyOld))
    }

    @Test func premiumInformation() {
        #expect(AlphaVantageDecoder.classify(["Information": Self.premium]) == .premiumOnly(Self.premium))
    }

    @Test func premiumOptionsSampleIsNeverDecoded() throws {
        let body = """
            {"endpoint": "Realtime Options", "message": "This is a premium endpoint. ***THE SAMPLE DATA SCHEMA BELOW IS ARTIFICIAL AND FOR ILLUSTRATION PURPOSES ONLY***.", "data": [{"contractID": "XXYYZZ999999C00020000", "symbol": "XXYYZZ", "expiration": "2099-99-99", "strike": "20.00", "type": "call"}]}
            """
        let object = try AlphaVantageDecoder.jsonObject(bytes(body))
        #expect(throws: AlphaVantageError.premiumOnly("This is a premium endpoint. ***THE SAMPLE DATA SCHEMA BELOW IS ARTIFICIAL AND FOR ILLUSTRATION PURPOSES ONLY***.")) {
            try AlphaVantageDecoder.options(object, symbol: "IBM", dataType: .alphavantageRealtime)
        }
    }

    @Test func errorMessages() {
        #expect(AlphaVantageDecoder.classify(["Error Message": Self.invalid]) == .invalidCall(Self.invalid))
        #expect(AlphaVantageDecoder.classify(["Error Message": Self.badKey]) == .invalidCall(Self.badKey))
        #expect(AlphaVantageDecoder.classify(["Information": "Invalid API call. Please retry or visit the documentation."]) == .invalidCall("Invalid API call. Please retry or visit the documentation."))
    }

    @Test func unknownNoticeBacksOff() {
        #expect(AlphaVantageDecoder.classify(["Information": "Something new"]) == .throttled("Something new"))
    }

    @Test func dataBodiesAreNotErrors() {
        #expect(AlphaVantageDecoder.classify(["Global Quote": [String: String]()]) == nil)
        #expect(AlphaVantageDecoder.classify(["endpoint": "Realtime Options", "message": "success", "data": [Any]()]) == nil)
    }

    @Test func errorBodiesWinOverTheDecoder() throws {
        let object = try AlphaVantageDecoder.jsonObject(bytes(#"{"Note": "\#(Self.noteThrottle)"}"#))
        #expect(throws: AlphaVantageError.throttled(Self.noteThrottle)) {
            try AlphaVantageDecoder.globalQuote(object, symbol: "IBM", dataType: .alphavantageEOD)
        }
    }

    @Test func codesAndSymbolScope() {
        #expect(AlphaVantageError.dailyLimit("x").code == "daily_limit")
        #expect(AlphaVantageError.http(status: 503).description == "Alpha Vantage answered HTTP 503")
        #expect(AlphaVantageError.invalidCall("x").isSymbolError)
        #expect(AlphaVantageError.emptyResult.isSymbolError)
        #expect(!AlphaVantageError.throttled("x").isSymbolError)
    }
}

/// The client's use of `Redaction` (Essentials, where the URL and text rules are tested).
@Suite struct ClientRedactionTests {
    @Test func clientRedactsEveryErrorText() {
        let client = AlphaVantageClient(configuration: .init(apiKey: APIKey("SECRET123")))
        let errors: [AlphaVantageError] = [
            .dailyLimit(ErrorShapeTests.daily), .throttled("SECRET123"), .premiumOnly("k=SECRET123"),
            .invalidCall("SECRET123"), .transport("SECRET123"), .malformed("SECRET123"),
        ]
        for error in errors {
            let redacted = client.redact(error)
            #expect(!redacted.description.contains("SECRET123"))
            #expect(!"\(redacted)".contains("SECRET123"))
            #expect(redacted.code == error.code)
        }
    }

    @Test func keyNeverInDescriptions() {
        let config = AlphaVantageConfiguration(apiKey: APIKey("SECRET123"))
        #expect(!"\(config)".contains("SECRET123"))
        #expect(!String(reflecting: config).contains("SECRET123"))
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("SECRET123"))
        let client = AlphaVantageClient(configuration: config)
        #expect(client.redactedURL(for: .globalQuote("IBM")) == "https://www.alphavantage.co/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=***")
        #expect(client.url(for: .globalQuote("IBM")).hasSuffix("apikey=SECRET123"))
    }

    @Test func requestURLs() {
        let delayed = AlphaVantageClient(configuration: .init(baseURL: "http://127.0.0.1:1/query", apiKey: APIKey("k y"), entitlement: .delayed))
        #expect(delayed.url(for: .bulkQuotes(["IBM", "BRK.B"])) == "http://127.0.0.1:1/query?function=REALTIME_BULK_QUOTES&symbol=IBM,BRK.B&entitlement=delayed&apikey=k%20y")
        #expect(delayed.url(for: .options("SPY")) == "http://127.0.0.1:1/query?function=REALTIME_OPTIONS&symbol=SPY&require_greeks=true&entitlement=delayed&apikey=k%20y")
        let eod = AlphaVantageClient(configuration: .init(apiKey: APIKey("k")))
        #expect(eod.url(for: .globalQuote("IBM")) == "https://www.alphavantage.co/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=k")
    }

    @Test func dataTypesFollowTheEntitlement() {
        typealias E = AlphaVantageConfiguration.Entitlement
        #expect(E.none.globalQuoteDataType == .alphavantageEOD)
        #expect(E.delayed.globalQuoteDataType == .alphavantageDelayed)
        #expect(E.realtime.globalQuoteDataType == .alphavantageRealtime)
        #expect(E.none.realtimeEndpointDataType == .alphavantageRealtime)
        #expect(E.delayed.realtimeEndpointDataType == .alphavantageDelayed)
    }
}
