import Foundation

/// How `cleave serve` (and tests) set up the workbench.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback by default so nothing is exposed unless asked for.
    public var host: String
    /// TCP port (0 = any free port).
    public var port: Int
    /// Where the database, blobs and tile cache live (created if missing).
    public var dataDirectory: String
    /// Create a demo project with a synthetic TEM-like image when none exists.
    public var demo: Bool
    /// Largest accepted image upload, in bytes.
    public var maximumUploadBytes: Int
    /// Largest accepted JSON request body, in bytes.
    public var maximumJSONBytes: Int
    /// Directory holding index.html, app.js and style.css.
    public var webDirectory: String

    public init(host: String = "127.0.0.1", port: Int = 8080, dataDirectory: String, demo: Bool = false,
                maximumUploadBytes: Int = 4 << 30, maximumJSONBytes: Int = 4 << 20,
                webDirectory: String = ServerConfiguration.defaultWebDirectory) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.demo = demo
        self.maximumUploadBytes = maximumUploadBytes
        self.maximumJSONBytes = maximumJSONBytes
        self.webDirectory = webDirectory
    }

    /// `$CLEAVE_WEB_DIR`, else `Web/` next to the executable's package checkout (found from this
    /// source file's location at build time, which works for `swift run` and `swift test`
    /// from any clone).
    public static var defaultWebDirectory: String {
        if let override = ProcessInfo.processInfo.environment["CLEAVE_WEB_DIR"], !override.isEmpty { return override }
        let here = URL(fileURLWithPath: #filePath)   // …/Sources/CleaveServer/ServerConfiguration.swift
        return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Web").path
    }
}
