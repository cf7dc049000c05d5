print("quote-relay-sim")
