import CleaveFormats
import Foundation
import Testing

/// `CSVText.field` against Python's `csv` module (QUOTE_MINIMAL, the dialect pandas and Fiji read):
/// csv.writer(f).writerow([s]) gives the quoted forms below.
@Suite struct CSVTextTests {
    @Test func quotesOnlyWhatMustBeQuoted() {
        #expect(CSVText.field("quartz") == "quartz")
        #expect(CSVText.field("") == "")
        #expect(CSVText.field("a,b") == "\"a,b\"")
        #expect(CSVText.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVText.field("two\nlines") == "\"two\nlines\"")
        #expect(CSVText.field("cr\rhere") == "\"cr\rhere\"")
        #expect(CSVText.field("tab\tand 'single'") == "tab\tand 'single'")
    }

    @Test func everyFieldReadsBackThroughARFC4180Parser() {
        // A minimal RFC 4180 reader: the round trip must give the original fields.
        func parse(_ line: String) -> [String] {
            var fields: [String] = [], current = "", quoted = false, chars = Array(line), i = 0
            while i < chars.count {
                let c = chars[i]
                if quoted {
                    if c == "\"" { if i + 1 < chars.count && chars[i + 1] == "\"" { current.append("\""); i += 1 } else { quoted = false } }
                    else { current.append(c) }
                } else if c == "\"" { quoted = true } else if c == "," { fields.append(current); current = "" } else { current.append(c) }
                i += 1
            }
            fields.append(current)
            return fields
        }
        let fields = ["plain", "a,b", "\"", "\"\"", ",", "x\ny", "ünïcødé, with comma", ""]
        #expect(parse(fields.map(CSVText.field).joined(separator: ",")) == fields)
    }
}
