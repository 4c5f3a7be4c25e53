import CleaveCore

/// Locates the shared real data sets (`../shared/data` beside the repository) for tests.
///
/// Tests that need real data use `.enabled(if: TestData.isAvailable, "needs ../shared/data")`
/// so that a machine without the data reports them as skipped, saying why.
public enum TestData {
    /// Absolute path of the repository root (derived from this file's location).
    public static let repositoryRoot: String = {
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3) // Sources/CleaveTestSupport/TestData.swift
        return parts.joined(separator: "/")
    }()

    /// `../shared/data` relative to the repository root, or `CLEAVE_SHARED_DATA` if set.
    public static let root: String = {
        if let custom = getEnvironmentValue("CLEAVE_SHARED_DATA") { return custom }
        return repositoryRoot + "/../shared/data"
    }()

    /// True when the shared data folder exists.
    public static var isAvailable: Bool { fileExists(root + "/tem-microcrystals/README.md") }

    /// Full path of a file inside the shared data folder.
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// A fresh empty scratch directory under the system temporary folder.
    public static func scratchDirectory(_ name: String) -> String {
        let dir = "/tmp/cleave-tests-\(getpid())-\(name)"
        _ = system("rm -rf '\(dir)' && mkdir -p '\(dir)'")
        return dir
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func getEnvironmentValue(_ name: String) -> String? {
    guard let raw = getenv(name) else { return nil }
    return String(cString: raw)
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
