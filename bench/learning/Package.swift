// swift-tools-version:6.0
// Benchmark driver for CleaveLearning (k-means assign-all, re-clustering). See run.sh.
import PackageDescription

#if arch(x86_64)
let flags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", Context.environment["CLEAVE_TARGET_CPU"] ?? "haswell"])]
#else
let flags: [SwiftSetting] = []
#endif

let package = Package(
    name: "learning-bench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Cleave", path: "../..")],
    targets: [
        .executableTarget(name: "learning-bench",
                          dependencies: [.product(name: "CleaveLearning", package: "Cleave")],
                          swiftSettings: flags),
    ],
    swiftLanguageModes: [.v5]
)
