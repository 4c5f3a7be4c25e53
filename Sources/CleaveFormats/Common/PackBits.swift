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
}
