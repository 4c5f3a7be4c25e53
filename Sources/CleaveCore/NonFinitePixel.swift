/// A sample that is NaN or ±infinity, and where it sits.
///
/// Cleave's analyses (patch statistics, filter banks, texture, thresholds, forests, pictures)
/// need finite samples: commands find the first non-finite one with
/// ``Image/firstNonFinitePixel()`` and refuse the image, naming this position.
public struct NonFinitePixel: Sendable, Equatable, CustomStringConvertible {
    public var column: Int
    public var row: Int
    public var plane: Int
    public var channel: Int
    /// The value (NaN, +inf or −inf).
    public var value: Float

    public init(column: Int, row: Int, plane: Int = 0, channel: Int = 0, value: Float) {
        self.column = column; self.row = row; self.plane = plane; self.channel = channel; self.value = value
    }

    /// "NaN at column 3, row 7" (plane and channel when not 0; 0-based like every Cleave index).
    public var description: String {
        let name = value.isNaN ? "NaN" : (value > 0 ? "+inf" : "-inf")
        var text = "\(name) at column \(column), row \(row)"
        if plane != 0 { text += ", plane \(plane)" }
        if channel != 0 { text += ", channel \(channel)" }
        return text
    }
}

extension Image {
    /// The first sample (in storage order) that is NaN or ±infinity, or nil when every sample is
    /// finite (always nil for integer images).
    /// - Complexity: one pass over the samples; an exponent-bits maximum that the compiler
    ///   vectorises, and a second pass over one chunk only when that chunk holds a bad value.
    public func firstNonFinitePixel() -> NonFinitePixel? {
        guard Scalar.self == Float.self else { return nil }
        let floats = unsafeBitCast(pixels, to: [Float].self)
        let chunk = 1 << 16
        return floats.withUnsafeBufferPointer { buffer -> NonFinitePixel? in
            let words = UnsafeRawBufferPointer(buffer).bindMemory(to: UInt32.self)
            var start = 0
            while start < words.count {
                let end = Swift.min(words.count, start + chunk)
                var exponent: UInt32 = 0
                for i in start..<end { exponent = Swift.max(exponent, words[i] & 0x7F80_0000) }
                if exponent == 0x7F80_0000 {
                    let index = (start..<end).first { !buffer[$0].isFinite }!
                    let w = shape.width, h = shape.height, d = shape.depth
                    return NonFinitePixel(column: index % w, row: index / w % h, plane: index / (w * h) % d,
                                          channel: index / (w * h * d), value: buffer[index])
                }
                start = end
            }
            return nil
        }
    }
}

extension AnyImage {
    /// See ``Image/firstNonFinitePixel()`` (nil for 8- and 16-bit images).
    public func firstNonFinitePixel() -> NonFinitePixel? {
        if case .float32(let image) = self { return image.firstNonFinitePixel() }
        return nil
    }
}
