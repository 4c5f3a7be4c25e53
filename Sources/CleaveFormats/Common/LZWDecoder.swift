/// TIFF LZW decoding (MSB-first codes of 9…12 bits, "early change", Clear = 256, EOI = 257).
///
/// Kernel: the table stores, for every code, where its string was first written in the
/// output and how long it is — each new string is the previous one plus one byte, and the two
/// lie back to back in the output — so decoding a code is a copy from earlier output:
///
/// ```
/// output:  … [ prev string ][ current string ] …
///            ^ entry[new] = (start: prevStart, length: prevLength + 1)
/// ```
/// Short strings are copied 8 bytes at a time (the spill past the string is overwritten by the
/// next string). Output is bounded by `capacity`; hostile data can never write past it.
enum LZWDecoder {
    /// Decodes `source` into `destination`.
    /// - Returns: bytes written (≤ `capacity`); decoding stops at EOI, at the end of the input
    ///   or when the output is full.
    /// - Throws: ``CodecFailure`` for codes not yet in the table, or old-style LZW.
    static func decode(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<UInt8>,
                       capacity: Int) throws -> Int {
        let n = source.count
        guard n > 0, capacity > 0 else { return 0 }
        let src = source.bindMemory(to: UInt8.self).baseAddress!
        if n >= 2 && src[0] == 0 && src[1] & 1 == 1 {
            throw CodecFailure(reason: "old-style (LSB-first) LZW is not supported", offset: 0)
        }
        // entry = start << 16 | length
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 4096)
        table.initialize(repeating: 0, count: 4096)
        defer { table.deallocate() }
        let raw = UnsafeMutableRawPointer(destination)
        // Room for 16-byte block copies.
        let fastLimit = capacity &- 16
        var bits: UInt64 = 0
        var bitCount = 0
        var position = 0
        var width = 9
        var nextCode = 258
        var previousCode = -1
        var previousStart = 0
        var previousLength = 0
        var out = 0
        while true {
            if bitCount < width {
                if position &+ 8 <= n {
                    // Refill whole bytes from an unaligned big-endian 64-bit load.
                    let word = UInt64(bigEndian: UnsafeRawPointer(src + position).loadUnaligned(as: UInt64.self))
                    let take = (63 &- bitCount) >> 3
                    // Keep the existing bits plus `take` new bytes; clear the rest.
                    bits |= (word >> UInt64(bitCount)) & ~(UInt64.max >> UInt64(bitCount &+ take &* 8))
                    bitCount &+= take &* 8
                    position &+= take
                } else {
                    while bitCount <= 56 && position < n {
                        bits |= UInt64(src[position]) << UInt64(56 &- bitCount)
                        bitCount &+= 8
                        position &+= 1
                    }
                    if bitCount < width { break }
                }
            }
            let code = Int(truncatingIfNeeded: bits >> UInt64(64 &- width))
            bits <<= UInt64(width)
            bitCount &-= width
            if code >= 256 {
                if code == 256 {
                    nextCode = 258
                    width = 9
                    previousCode = -1
                    continue
                }
                if code == 257 { break }
            }
            let stringStart = out
            var stringLength: Int
            if code < 256 {
                destination[out] = UInt8(truncatingIfNeeded: code)
                stringLength = 1
            } else if previousCode < 0 {
                throw CodecFailure(reason: "LZW code \(code) right after a clear code", offset: position)
            } else if code < nextCode {
                let entry = table[code]
                let from = Int(truncatingIfNeeded: entry >> 16)
                stringLength = Int(truncatingIfNeeded: entry & 0xFFFF)
                if out <= fastLimit && stringLength <= 16 {
                    let a = UnsafeRawPointer(raw + from).loadUnaligned(as: UInt64.self)
                    let b = UnsafeRawPointer(raw + (from &+ 8)).loadUnaligned(as: UInt64.self)
                    (raw + out).storeBytes(of: a, as: UInt64.self)
                    (raw + (out &+ 8)).storeBytes(of: b, as: UInt64.self)
                } else {
                    if out &+ stringLength > capacity { stringLength = capacity &- out }
                    (destination + out).update(from: destination + from, count: stringLength)
                }
            } else if code == nextCode {
                // KwKwK: the previous string plus its own first byte; the copy overlaps by one
                // byte, so it goes forward byte by byte.
                stringLength = previousLength &+ 1
                if out &+ stringLength > capacity { stringLength = capacity &- out }
                let from = destination + previousStart
                let to = destination + out
                for i in 0..<stringLength { to[i] = from[i] }
            } else {
                throw CodecFailure(reason: "LZW code \(code) not yet defined (next is \(nextCode))", offset: position)
            }
            out &+= stringLength
            if previousCode >= 0 && nextCode < 4096 {
                table[nextCode] = UInt64(previousStart) << 16 | UInt64(previousLength &+ 1)
                nextCode &+= 1
                if nextCode >= (1 << width) &- 1 && width < 12 { width &+= 1 }
            }
            previousCode = code
            previousStart = stringStart
            previousLength = stringLength
            if out >= capacity { break }
        }
        return out
    }
}

/// Why a codec stopped: a reason and the input offset where it noticed.
struct CodecFailure: Error {
    let reason: String
    let offset: Int
}
