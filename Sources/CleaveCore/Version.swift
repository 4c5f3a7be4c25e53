/// Cleave's version, written into models, summaries and exported metadata.
public let cleaveVersion = "0.1.0"
