/// PackBits (Macintosh run-length) decoding, bounded by the output capacity.
enum PackBits {
    /// - Returns: bytes written (≤ `capacity`).
    static func decode(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int {
        let n = source.count
        var i = 0
        var out = 0
        while i < n && out < capacity {
            let header = Int(Int8(bitPattern: source[i]))
            i += 1
            if header >= 0 {
                let count = min(header + 1, n - i, capacity - out)
                for k in 0..<count { destination[out + k] = source[i + k] }
                out += count
                i += header + 1
            } else if header != -128 {
                guard i < n else { break }
                let value = source[i]
                i += 1
                let count = min(1 - header, capacity - out)
                for k in 0..<count { destination[out + k] = value }
                out += count
            }
        }
        return out
    }

    /// Encodes bytes (used by tests to make PackBits fixtures).
    static func encode(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            var run = 1
            while i + run < data.count && run < 128 && data[i + run] == data[i] { run += 1 }
            if run >= 2 {
                out.append(UInt8(bitPattern: Int8(1 - run)))
                out.append(data[i])
                i += run
            } else {
                var literal = 1
                while i + literal < data.count && literal < 128
                        && !(i + literal + 1 < data.count && data[i + literal] == data[i + literal + 1]) { literal += 1 }
                out.append(UInt8(literal - 1))
                out.append(contentsOf: data[i..<i + literal])
                i += literal
            }
        }
        return out
    }
}
