/// Reads integers and floats of a given byte order out of a byte array.
///
/// Offsets are checked by the caller (the array was sized from a validated range); reads
/// outside the array trap, which would be a Cleave bug rather than bad input.
struct EndianBytes {
    let bytes: [UInt8]
    let littleEndian: Bool

    @inline(__always) func u8(_ i: Int) -> Int { Int(bytes[i]) }

    @inline(__always) func u16(_ i: Int) -> Int {
        let a = Int(bytes[i]), b = Int(bytes[i + 1])
        return littleEndian ? a | b << 8 : a << 8 | b
    }

    @inline(__always) func u32(_ i: Int) -> Int {
        let a = Int(bytes[i]), b = Int(bytes[i + 1]), c = Int(bytes[i + 2]), d = Int(bytes[i + 3])
        return littleEndian ? a | b << 8 | c << 16 | d << 24 : a << 24 | b << 16 | c << 8 | d
    }

    @inline(__always) func u64(_ i: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 {
            let byte = UInt64(bytes[i + (littleEndian ? 7 - k : k)])
            v = v << 8 | byte
        }
        return v
    }

    /// An unsigned 64-bit value as Int, or nil when it does not fit (hostile offsets).
    @inline(__always) func u64AsInt(_ i: Int) -> Int? {
        let v = u64(i)
        return v <= UInt64(Int.max) ? Int(v) : nil
    }

    @inline(__always) func f32(_ i: Int) -> Float { Float(bitPattern: UInt32(truncatingIfNeeded: u32(i))) }
    @inline(__always) func f64(_ i: Int) -> Double { Double(bitPattern: u64(i)) }
}
