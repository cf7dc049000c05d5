print("quote-relay")
