/// Real conIds and rough price levels of popular underlyings, so that simulated sessions
/// look like real ones in logs and in Redis (a developer recognises AAPL's 265598).
enum KnownStocks {
    struct Entry: Sendable {
        var conId: Int64
        var price: Double
        var primary: String
        var name: String
        var industry: String
        var category: String
        var stockType: String
        var volatility: Double
    }

    static let table: [String: Entry] = [
        "AAPL": Entry(conId: 265_598, price: 190, primary: "NASDAQ", name: "APPLE INC", industry: "Technology", category: "Computers", stockType: "COMMON", volatility: 0.25),
        "MSFT": Entry(conId: 272_093, price: 420, primary: "NASDAQ", name: "MICROSOFT CORP", industry: "Technology", category: "Software", stockType: "COMMON", volatility: 0.24),
        "SPY": Entry(conId: 756_733, price: 520, primary: "ARCA", name: "SPDR S&P 500 ETF TRUST", industry: "Funds", category: "Equity Fund", stockType: "ETF", volatility: 0.15),
        "QQQ": Entry(conId: 320_227_571, price: 440, primary: "NASDAQ", name: "INVESCO QQQ TRUST SERIES 1", industry: "Funds", category: "Equity Fund", stockType: "ETF", volatility: 0.19),
        "NVDA": Entry(conId: 4_815_747, price: 120, primary: "NASDAQ", name: "NVIDIA CORP", industry: "Technology", category: "Semiconductors", stockType: "COMMON", volatility: 0.5),
        "AMZN": Entry(conId: 3_691_937, price: 180, primary: "NASDAQ", name: "AMAZON.COM INC", industry: "Communications", category: "Internet", stockType: "COMMON", volatility: 0.3),
        "TSLA": Entry(conId: 76_792_991, price: 250, primary: "NASDAQ", name: "TESLA INC", industry: "Consumer, Cyclical", category: "Auto Manufacturers", stockType: "COMMON", volatility: 0.55),
        "GOOGL": Entry(conId: 208_813_719, price: 170, primary: "NASDAQ", name: "ALPHABET INC-CL A", industry: "Communications", category: "Internet", stockType: "COMMON", volatility: 0.28),
        "META": Entry(conId: 107_113_386, price: 500, primary: "NASDAQ", name: "META PLATFORMS INC-CLASS A", industry: "Communications", category: "Internet", stockType: "COMMON", volatility: 0.35),
        "IWM": Entry(conId: 9_579_970, price: 200, primary: "ARCA", name: "ISHARES RUSSELL 2000 ETF", industry: "Funds", category: "Equity Fund", stockType: "ETF", volatility: 0.2),
    ]
}
