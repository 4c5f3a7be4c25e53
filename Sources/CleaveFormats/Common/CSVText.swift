/// CSV as every table Cleave writes spells it (RFC 4180): fields joined by commas; a field that
/// holds a comma, a double quote, a carriage return or a line feed is enclosed in double quotes
/// with its own double quotes doubled. Spreadsheets, pandas and Fiji read it back unchanged.
public enum CSVText {
    /// One field, quoted only when it has to be.
    public static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
