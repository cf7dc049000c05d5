import Essentials
import MarketModel

/// The JSON messages on `P:events` (CONTRACT §3): every one has `type`, `worker`, `ts_ms`.
enum WorkerEvents {
    static func state(worker: String, from: String, to: String, reason: String, nowMs: Int64) -> String {
        object(type: "state", worker: worker, nowMs: nowMs, [
            Field("from", from, isNumber: false), Field("to", to, isNumber: false),
            Field("reason", reason, isNumber: false),
        ])
    }

    static func failover(kind: String, worker: String, reason: String, symbols: [String], nowMs: Int64) -> String {
        object(type: kind, worker: worker, nowMs: nowMs, [Field("reason", reason, isNumber: false)],
               arrays: ["symbols": symbols])
    }

    static func staleness(kind: String, worker: String, keys: [String], nowMs: Int64) -> String {
        object(type: kind, worker: worker, nowMs: nowMs, [], arrays: ["keys": keys])
    }

    /// `severity` (contract extension): `informational`, `warning`, `request_fatal`, `connection`.
    static func ibError(
        worker: String, code: Int32, message: String, reqId: Int32, symbol: String?, severity: String, nowMs: Int64
    ) -> String {
        var fields = [
            Field("code", String(code), isNumber: true), Field("message", message, isNumber: false),
            Field("req_id", String(reqId), isNumber: true), Field("severity", severity, isNumber: false),
        ]
        if let symbol { fields.append(Field("symbol", symbol, isNumber: false)) }
        return object(type: "ib_error", worker: worker, nowMs: nowMs, fields)
    }

    static func plain(type: String, worker: String, nowMs: Int64, _ fields: [Field]) -> String {
        object(type: type, worker: worker, nowMs: nowMs, fields)
    }

    private static func object(
        type: String, worker: String, nowMs: Int64, _ fields: [Field], arrays: [String: [String]] = [:]
    ) -> String {
        var head = [
            Field("type", type, isNumber: false), Field("worker", worker, isNumber: false),
            Field("ts_ms", String(nowMs), isNumber: true),
        ]
        head.append(contentsOf: fields)
        var json = JSONText.object(head)
        guard !arrays.isEmpty else { return json }
        json.removeLast()
        for (name, values) in arrays.sorted(by: { $0.key < $1.key }) {
            json += "," + JSONString.quoted(name) + ":[" + values.map(JSONString.quoted).joined(separator: ",") + "]"
        }
        return json + "}"
    }
}
