import Foundation

/// How `cleave serve` (and tests) set up the workbench.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback by default so nothing is exposed unless asked for.
    public var host: String
    /// TCP port (0 = any free port).
    public var port: Int
    /// Where the database, blobs and tile cache live (created if missing).
    public var dataDirectory: String
    /// `--database`: a PostgreSQL URL (`postgres://user:password@host:port/name`); nil keeps the
    /// tables in the SQLite file `cleave.sqlite` in ``dataDirectory``. Blobs, results and tiles
    /// stay in ``dataDirectory`` either way.
    public var database: String? = nil
    /// Create a demo project with a synthetic TEM-like image when none exists.
    public var demo: Bool
    /// Largest accepted image upload, in bytes.
    public var maximumUploadBytes: Int
    /// Largest accepted JSON request body, in bytes.
    public var maximumJSONBytes: Int
    /// Directory holding index.html, app.js and style.css.
    public var webDirectory: String
    /// Background jobs that may run at once (each may use several cores inside the pipeline).
    public var jobConcurrency: Int
    /// Uploads whose decoded pixels would exceed this many bytes are validated from their headers
    /// (plus a size check) instead of being decoded completely, so memory stays bounded.
    public var fullValidationBytes: Int
    /// The memory budget as an image size: images with more samples (width × height × depth ×
    /// channels) are refused at upload from their headers, before a pixel is decoded, and never
    /// decoded for tiles or jobs (`--max-image-pixels`).
    public var maximumImagePixels: Int
    /// Memory for the pixel classifier's feature stacks kept between strokes (per image block,
    /// least recently used evicted first). 1 GiB holds about 5 megapixels of the default bank's
    /// 49 features; 0 keeps none (every live update computes its features).
    public var pixelFeatureCacheBytes: Int
    /// Memory for decoded images kept between tile and job requests (least recently used evicted
    /// first; the newest image always stays). Default windows are remembered apart from it, so
    /// tiles already rendered never need their image decoded again.
    public var decodedImageBytes: Int = 1 << 30
    /// Mark the session cookie `Secure` (behind an HTTPS proxy; `--secure-cookies`). It is also
    /// marked when the proxy says `X-Forwarded-Proto: https`.
    public var secureCookies: Bool = false
    /// bcrypt cost for passwords set through the API (log2 of the rounds).
    public var passwordCost: UInt8 = AccountStore.defaultPasswordCost

    /// A configuration with the given settings; `jobConcurrency` and `maximumImagePixels` are raised
    /// to at least 1 and `pixelFeatureCacheBytes` to at least 0.
    public init(host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String, demo: Bool = false,
                maximumUploadBytes: Int = 4 << 30, maximumJSONBytes: Int = 4 << 20,
                webDirectory: String = ServerConfiguration.defaultWebDirectory,
                jobConcurrency: Int = ServerConfiguration.defaultJobConcurrency, fullValidationBytes: Int = 512 << 20,
                maximumImagePixels: Int = ServerConfiguration.defaultMaximumImagePixels, pixelFeatureCacheBytes: Int = 1 << 30) {
        self.maximumImagePixels = max(1, maximumImagePixels)
        self.pixelFeatureCacheBytes = max(0, pixelFeatureCacheBytes)
        self.jobConcurrency = max(1, jobConcurrency)
        self.fullValidationBytes = fullValidationBytes
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.demo = demo
        self.maximumUploadBytes = maximumUploadBytes
        self.maximumJSONBytes = maximumJSONBytes
        self.webDirectory = webDirectory
    }

    /// 2^28 = 268 MP (16384 × 16384): at about ``bytesPerPixelEstimate`` bytes per pixel a
    /// clustering job on the largest accepted image stays under 6 GB.
    public static let defaultMaximumImagePixels = 1 << 28

    /// Peak memory of the heaviest workbench job (grid clustering, default settings) per image
    /// pixel: a 50 MP 8-bit image peaked at 1.04 GB resident (21.9 bytes per pixel, whole server
    /// process), a 400 MP one at 8 GB in the issue-19 review.
    public static let bytesPerPixelEstimate = 22

    /// One job per two cores (at least one): a job's pipeline is itself parallel.
    public static var defaultJobConcurrency: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    /// `$CLEAVE_WEB_DIR`, else `Web/` next to the executable's package checkout (found from this
    /// source file's location at build time, which works for `swift run` and `swift test`
    /// from any clone).
    public static var defaultWebDirectory: String {
        if let override = ProcessInfo.processInfo.environment["CLEAVE_WEB_DIR"], !override.isEmpty { return override }
        let here = URL(fileURLWithPath: #filePath)   // …/Sources/CleaveServer/Server/ServerConfiguration.swift
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Web").path
    }
}
