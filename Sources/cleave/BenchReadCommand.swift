import ArgumentParser
import CleaveCore
import CleaveFormats
import Dispatch

/// Hidden `cleave bench-read FILE --repeat N`: times whole-file reads inside the process
/// (used by bench/formats to compare with tifffile / Pillow timed the same way).
struct BenchReadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-read",
        abstract: "Time reading an image file (benchmark helper).",
        discussion: "Reads FILE --repeat times and prints the best and median time in milliseconds.",
        shouldDisplay: false)

    @Argument(help: "Image file to read.")
    var file: String

    @Option(name: .long, help: "Number of timed reads (after one warm-up read).")
    var `repeat` = 10

    func run() throws {
        var checksum = 0.0
        _ = try ImageFile.read(file)
        var times: [Double] = []
        for _ in 0..<max(1, `repeat`) {
            let start = DispatchTime.now().uptimeNanoseconds
            let image = try ImageFile.read(file)
            let end = DispatchTime.now().uptimeNanoseconds
            times.append(Double(end - start) / 1e6)
            checksum += Double(image.shape.count)
        }
        times.sort()
        let median = times[times.count / 2]
        print("file=\(file) best_ms=\(String(format3(times[0]))) median_ms=\(format3(median)) repeats=\(times.count) samples=\(Int(checksum) / times.count)")
    }

    private func format3(_ v: Double) -> String {
        let scaled = (v * 1000).rounded() / 1000
        return "\(scaled)"
    }
}
