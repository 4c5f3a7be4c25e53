import CleaveCore
import CleaveFormats
import Foundation

/// The checks every image passes before the workbench computes anything on it (uploads, and
/// again before an image is decoded for tiles, windows or jobs, which also covers images stored
/// before a check existed or too large to decode at upload). A failed check is the request's or
/// job's error alone (one line, 4xx); it never reaches a kernel that could trap.
extension Workbench {
    /// Refuses images with more samples than the server's budget (`--max-image-pixels`), from
    /// the header's shape, before a pixel is decoded: a small compressed file can decode to
    /// gigabytes (a decompression bomb), and every tool keeps several arrays of the image's size.
    /// - Throws: ``APIError`` 413 naming the size, the limit and the option that raises it.
    func checkPixelBudget(name: String, width: Int, height: Int, depth: Int, channels: Int) throws {
        try Workbench.checkPixelBudget(name: name, width: width, height: height, depth: depth, channels: channels,
                                       limit: configuration.maximumImagePixels)
    }

    /// ``checkPixelBudget(name:width:height:depth:channels:)`` against an explicit `limit`
    /// (the project import, which runs without a whole workbench from the command line too).
    static func checkPixelBudget(name: String, width: Int, height: Int, depth: Int, channels: Int, limit: Int) throws {
        let (planes, overflowPlanes) = width.multipliedReportingOverflow(by: height)
        let (volume, overflowVolume) = planes.multipliedReportingOverflow(by: depth)
        let (samples, overflowSamples) = volume.multipliedReportingOverflow(by: channels)
        guard overflowPlanes || overflowVolume || overflowSamples || samples > limit else { return }
        let size = overflowPlanes || overflowVolume || overflowSamples ? "more than 9.2e18 pixels" : Workbench.megapixels(samples)
        throw APIError(.contentTooLarge, "\(name) is \(width)x\(height)x\(depth)x\(channels) = \(size); this workbench takes images of at most \(Workbench.megapixels(limit)) (its memory budget; start cleave serve with a larger --max-image-pixels where the machine has the memory: about \(ServerConfiguration.bytesPerPixelEstimate) bytes per pixel for clustering)")
    }

    static func megapixels(_ count: Int) -> String {
        count >= 1_000_000 ? String(format: "%.1f MP", Double(count) / 1e6) : "\(count) pixels"
    }

    /// Refuses float images with NaN or ±infinity anywhere. The workbench's tools (windows,
    /// tiles, clustering, pixel classification, objects) need finite values; the choice is to
    /// refuse such images with a clear message rather than to guess what a NaN means.
    /// - Throws: ``APIError`` 422 with the counts and the first position.
    static func checkFinite(_ image: AnyImage, name: String) throws {
        guard case .float32(let pixels) = image else { return }   // integer pixels are always finite
        var nan = 0, positive = 0, negative = 0
        var first = -1
        pixels.pixels.withUnsafeBufferPointer { values in
            for index in values.indices where !values[index].isFinite {
                let value = values[index]
                if value.isNaN { nan += 1 } else if value > 0 { positive += 1 } else { negative += 1 }
                if first < 0 { first = index }
            }
        }
        guard first >= 0 else { return }
        let shape = pixels.shape
        // Layout: channel-major, then plane, then row, then column (CleaveCore's Image).
        let channel = first / shape.channelSize
        let inChannel = first % shape.channelSize
        let plane = inChannel / shape.planeSize
        let x = inChannel % shape.planeSize % shape.width, y = inChannel % shape.planeSize / shape.width
        let total = nan + positive + negative
        var parts: [String] = []
        if nan > 0 { parts.append("\(nan) NaN") }
        if positive > 0 { parts.append("\(positive) +Inf") }
        if negative > 0 { parts.append("\(negative) -Inf") }
        var place = "x=\(x), y=\(y)"
        if shape.depth > 1 { place += ", plane \(plane)" }
        if shape.channels > 1 { place += ", channel \(channel)" }
        throw APIError(.unprocessableContent, "\(name): \(total) pixel\(total == 1 ? " is" : "s are") not finite (\(parts.joined(separator: ", "))), the first at \(place); the workbench needs finite values: replace them (e.g. with 0 or the image's mean; Fiji: Process > Math > Remove NaNs) and upload the image again")
    }
}
