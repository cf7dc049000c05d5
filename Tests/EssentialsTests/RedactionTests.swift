import Essentials
import Testing

@Suite("Redaction")
struct RedactionTests {
    @Test(arguments: [
        // Redis URLs: the password, the user kept.
        ("redis://u:pw@h:1/0", "redis://u:***@h:1/0"),
        ("rediss://:pw@h:6380", "rediss://:***@h:6380"),
        ("redis://bare@h:1", "redis://***@h:1"),
        ("redis://u:p@ss/w@h:1/0", "redis://u:***@h:1/0"),
        ("redis://h:6379/0", "redis://h:6379/0"),
        // Alpha Vantage URLs: the apikey parameter, whatever its case, the name kept.
        ("https://www.alphavantage.co/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=SECRET123",
         "https://www.alphavantage.co/query?function=GLOBAL_QUOTE&symbol=IBM&apikey=***"),
        ("http://h/query?APIKEY=abc&x=1#frag", "http://h/query?APIKEY=***&x=1#frag"),
        ("https://x/query?function=GLOBAL_QUOTE&apikey=K123", "https://x/query?function=GLOBAL_QUOTE&apikey=***"),
        ("http://h/query", "http://h/query"),
        ("http://h/q?apikey", "http://h/q?apikey"),
        ("http://h/q?apikey=", "http://h/q?apikey=***"),
        // Other secret-looking parameters, and both kinds at once.
        ("https://u:pw@h/p?access_token=t&password=p&symbol=IBM", "https://u:***@h/p?access_token=***&password=***&symbol=IBM"),
        ("no url at all", "no url at all"),
    ] as [(String, String)])
    func url(_ input: String, _ expected: String) {
        #expect(Redaction.url(input) == expected)
    }

    @Test func secretKeys() {
        for key in ["api_key", "alphavantage.api_key", "apikey", "APIKEY", "REDIS_PASSWORD", "redis.sentinel_password", "x-api-token", "Authorization", "client_secret", "passwd", "aws.credentials"] {
            #expect(Redaction.isSecretKey(key), "\(key)")
        }
        for key in ["symbol", "redis.url", "ib.host", "function", "worker_id", "key"] {
            #expect(!Redaction.isSecretKey(key), "\(key)")
        }
    }

    @Test func valuesByKey() {
        #expect(Redaction.redactValue(ofKey: "alphavantage.api_key", "K") == "***")
        #expect(Redaction.redactValue(ofKey: "redis.sentinel_password", "pw") == "***")
        #expect(Redaction.redactValue(ofKey: "redis.url", "redis://u:pw@h:1/0") == "redis://u:***@h:1/0")
        #expect(Redaction.redactValue(ofKey: "alphavantage.base_URL", "https://h/q?apikey=K") == "https://h/q?apikey=***")
        #expect(Redaction.redactValue(ofKey: "ib.host", "127.0.0.1") == "127.0.0.1")
        #expect(Redaction.mask == "***")
    }

    @Test func textLosesEveryCopyOfTheSecret() {
        let notice = "We have detected your API key as SECRET123 and our standard API rate limit is 25 requests per day. SECRET123"
        #expect(Redaction.text(notice, removing: "SECRET123") == "We have detected your API key as *** and our standard API rate limit is 25 requests per day. ***")
        #expect(Redaction.text("nothing here", removing: "") == "nothing here")
        #expect(Redaction.text("nothing here", removing: "K") == "nothing here")
    }
}
