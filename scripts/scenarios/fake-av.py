#!/usr/bin/env python3
"""A scriptable stand-in for Alpha Vantage's CURRENCY_EXCHANGE_RATE and GLOBAL_QUOTE (real JSON shapes),
for answers the bundled simulator cannot give. Usage: fake-av.py PORT MODEFILE; the mode is re-read
from MODEFILE on every request: ok | dash (bid/ask "-") | otherpair (answers GBP/USD) | crossed |
zero (rate 0) | note (throttle note). GET /_stats -> requests served per mode."""
import json, sys, time, collections
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs
PORT, MODEFILE = int(sys.argv[1]), sys.argv[2]
stats = collections.Counter()
def fx(frm, to, rate, bid, ask):
    return {"Realtime Currency Exchange Rate": {"1. From_Currency Code": frm, "2. From_Currency Name": frm,
        "3. To_Currency Code": to, "4. To_Currency Name": to, "5. Exchange Rate": rate,
        "6. Last Refreshed": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "7. Time Zone": "UTC",
        "8. Bid Price": bid, "9. Ask Price": ask}}
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        u = urlparse(self.path); q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if u.path == "/_stats":
            body = json.dumps(stats)
        else:
            mode = open(MODEFILE).read().strip()
            f = q.get("function"); stats[f"{f}:{mode}"] += 1
            if mode == "note":
                body = json.dumps({"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."})
            elif f == "CURRENCY_EXCHANGE_RATE":
                frm, to = q.get("from_currency", ""), q.get("to_currency", "")
                body = json.dumps({
                    "ok": fx(frm, to, "1.08606000", "1.08604000", "1.08608000"),
                    "dash": fx(frm, to, "1.08606000", "-", "-"),
                    "otherpair": fx("GBP", "USD", "1.26912000", "1.26909000", "1.26914000"),
                    "crossed": fx(frm, to, "1.08606000", "1.09000000", "1.08000000"),
                    "zero": fx(frm, to, "0.00000000", "0.00000000", "0.00000000"),
                }[mode])
            else:
                sym = q.get("symbol", "")
                body = json.dumps({"Global Quote": {"01. symbol": sym, "02. open": "100.0000", "03. high": "101.0000",
                    "04. low": "99.0000", "05. price": "100.5000", "06. volume": "1000", "07. latest trading day": time.strftime("%Y-%m-%d"),
                    "08. previous close": "100.0000", "09. change": "0.5000", "10. change percent": "0.5000%"}})
        b = body.encode(); self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
